// Sets poems as poems: one ruby per character with its tone mark (and 拼音), rhyme characters circled.

import { layLines } from "./ci.js";
import { element } from "./dom.js";
import { factsNodes } from "./facts.js";
import { shapeOf, validateLine } from "./validate.js";

const TONES = {
  "平": ["tone-ping", "○", "平声"],
  "仄": ["tone-ze", "●", "仄声"],
  "中": ["tone-zhong", "◐", "可平可仄"],
};
const UNKNOWN_TONE = ["tone-unknown", "？", "声调不明"];
const MARKS = /[，。？！；：]/u;

/** The text cut at its punctuation: [{line, mark}]. */
export function splitPoem(text) {
  const pieces = [];
  let line = "";
  for (const char of text) {
    if (MARKS.test(char)) {
      pieces.push({ line, mark: char });
      line = "";
    } else line += char;
  }
  if (line) pieces.push({ line, mark: "" });
  return pieces;
}

/** A poem's marks, line by line, as its text has them (a 词 has its tune's own, not ，。 in turn). */
export const marksOf = (poem) => splitPoem(poem.text || "").map((piece) => piece.mark);

/** One character: a ruby whose annotation is its tone mark (above, or beside it in 竖排), its 拼音 over that. */
function charNode(char, tone, classes = [], reading = undefined) {
  // While streaming, hidden stand-ins (a tone mark, an empty cell's 口) keep every cell the size it will have.
  const [toneClass, mark, title] = tone === undefined ? ["tone-none", "○", ""] : TONES[tone] || UNKNOWN_TONE;
  const ruby = element("ruby", ["char", toneClass, ...classes].join(" "));
  if (title) ruby.title = reading ? `${reading} · ${title}` : title;
  const annotation = element("rt", "tone-mark");
  // With 拼音 shown, the syllable takes the mark's place, coloured by its tone as the mark is.
  annotation.append(...(reading === undefined ? [] : [element("span", "pinyin", reading)]), element("span", "mark", mark));
  annotation.setAttribute("aria-hidden", "true");
  ruby.append(element("span", "glyph", char || "口"), annotation);
  return ruby;
}

/** A poem still being written: the form's grid, filled as far as the text goes, with a caret; the
 * user's characters (given: "line,column" -> character) stand in their cells before the model gets there. */
export function renderStreaming(card, text, form, given) {
  const shape = shapeOf(form);
  const pieces = splitPoem(text);
  const body = card.querySelector(".poem-body");
  const lines = [];
  const count = Math.max(shape.lines, pieces.length);
  for (let i = 0; i < count; i += 1) {
    const chars = [...(pieces[i]?.line || "")];
    const line = element("p", "line");
    for (let j = 0; j < Math.max(shape.lengths[i] || 0, chars.length); j += 1) {
      const char = chars[j] || given.get(`${i},${j}`);
      const classes = [char ? "" : "empty", given.has(`${i},${j}`) ? "given" : ""].filter(Boolean);
      line.append(charNode(char, undefined, classes));
    }
    line.append(element("span", pieces[i]?.mark ? "punct" : "punct pending", pieces[i]?.mark || "。"));
    lines.push(line);
  }
  const at = Math.min(pieces.length - (pieces.at(-1)?.mark ? 0 : 1), count - 1);
  lines[Math.max(at, 0)]?.classList.add("writing");
  layLines(body, lines, shape);
}

function lineNode(poem, glyphs, i, { given, pinyin, marks, onEdit }) {
  const line = element("button", "line");
  line.type = "button";
  line.dataset.line = String(i);
  line.setAttribute("aria-label", `第 ${i + 1} 句：${glyphs[i]}。点按改写此句，并重写其后各句`);
  const last = [...glyphs[i]].length - 1;
  [...glyphs[i]].forEach((char, j) => {
    const classes = [given.has(`${i},${j}`) ? "given" : "", j === last && poem.rhyme_positions.includes(i) ? "rhyme" : ""];
    line.append(charNode(char, [...(poem.tones[i] || "")][j] || "？", classes.filter(Boolean), pinyin?.[i]?.[j]));
  });
  line.append(element("span", "punct", marks[i] || (i % 2 ? "。" : "，")));
  line.addEventListener("click", () => onEdit(line, i));
  return line;
}

/** A finished poem: tones (and 拼音 if given), rhyme marks, facts; each line a button that opens it for editing;
 * a 词 by its 阕. view: {form, given, glyphLines (traditional, if shown), pinyin, rules (from /api/info), onEdit}. */
export function renderFinal(card, poem, view) {
  const glyphs = view.glyphLines || poem.lines;
  const body = card.querySelector(".poem-body");
  const onEdit = (line, index) => view.onEdit(card, line, index);
  const shape = shapeOf(view.form);
  const marks = marksOf(poem);
  layLines(body, glyphs.map((_, i) => lineNode(poem, glyphs, i, { ...view, marks, onEdit })), shape);
  body.classList.toggle("with-pinyin", Boolean(view.pinyin));
  card.querySelector(".facts").replaceChildren(...factsNodes(poem, { ...view, tune: shape.tune }));
  card.classList.remove("streaming");
  card.classList.add("done");
}

/** Open a small form under the poem for one line; submit(text) gets the checked new line. */
export function openLineEditor(line, current, width, submit) {
  const card = line.closest(".poem");
  card.querySelector(".line-edit")?.close();
  const editor = element("form", "line-edit");
  const input = element("input", "line-input");
  Object.assign(input, { value: current, maxLength: width + 4, autocomplete: "off", spellcheck: false });
  input.setAttribute("aria-label", `改写第 ${Number(line.dataset.line) + 1} 句（${width} 字）`);
  const problem = element("p", "line-error");
  problem.setAttribute("aria-live", "polite");
  const go = element("button", "primary small", "续写其后");
  go.type = "submit";
  const cancel = element("button", "quiet small", "取消");
  cancel.type = "button";
  editor.append(input, go, cancel, problem);
  editor.close = () => { editor.remove(); line.classList.remove("editing"); };
  const check = () => {
    problem.textContent = validateLine(input.value, width);
    go.disabled = Boolean(problem.textContent);
  };
  input.addEventListener("input", check);
  cancel.addEventListener("click", () => { editor.close(); line.focus(); });
  editor.addEventListener("keydown", (event) => { if (event.key === "Escape") cancel.click(); });
  editor.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!go.disabled) submit(input.value.trim());
  });
  line.classList.add("editing");
  card.querySelector(".poem-body").after(editor);
  check();
  input.focus();
  input.select();
}
