// Sets poems as poems: one ruby per character with its tone mark, rhyme characters circled.

import { FORMS, validateLine } from "./validate.js";

const TONES = {
  "平": ["tone-ping", "○", "平声"],
  "仄": ["tone-ze", "●", "仄声"],
  "中": ["tone-zhong", "◐", "可平可仄"],
};
const UNKNOWN_TONE = ["tone-unknown", "？", "声调不明"];
const MARKS = /[，。？！；：]/u;
const CHECKS = { well_formed: "合式", kept: "存原句", rhyme: "押韵", meter: "粘对", strict_meter: "严格格律", no_repeat: "不重复", no_copy: "非抄录" };

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

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

/** One character: a ruby whose annotation is its tone mark (above, or beside it in 竖排). */
function charNode(char, tone, classes = []) {
  // While streaming, hidden stand-ins (a tone mark, an empty cell's 口) keep every cell the size it will have.
  const [toneClass, mark, title] = tone === undefined ? ["tone-none", "○", ""] : TONES[tone] || UNKNOWN_TONE;
  const ruby = element("ruby", ["char", toneClass, ...classes].join(" "));
  if (title) ruby.title = title;
  ruby.append(element("span", "glyph", char || "口"), element("rt", "tone-mark", mark));
  ruby.lastChild.setAttribute("aria-hidden", "true");
  return ruby;
}

/** A poem still being written: the form's grid, filled as far as the text goes, with a caret. */
export function renderStreaming(card, text, form, given) {
  const shape = FORMS[form] || FORMS["七绝"];
  const pieces = splitPoem(text);
  const body = card.querySelector(".poem-body");
  const lines = [];
  const count = Math.max(shape.lines, pieces.length);
  for (let i = 0; i < count; i += 1) {
    const chars = [...(pieces[i]?.line || "")];
    const line = element("p", "line");
    for (let j = 0; j < Math.max(shape.width, chars.length); j += 1) {
      const classes = [chars[j] ? "" : "empty", given.has(`${i},${j}`) ? "given" : ""].filter(Boolean);
      line.append(charNode(chars[j], undefined, classes));
    }
    line.append(element("span", pieces[i]?.mark ? "punct" : "punct pending", pieces[i]?.mark || "。"));
    lines.push(line);
  }
  const at = Math.min(pieces.length - (pieces.at(-1)?.mark ? 0 : 1), count - 1);
  lines[Math.max(at, 0)]?.classList.add("writing");
  body.replaceChildren(...lines);
}

function lineNode(poem, glyphs, i, given, onEdit) {
  const line = element("button", "line");
  line.type = "button";
  line.dataset.line = String(i);
  line.setAttribute("aria-label", `第 ${i + 1} 句：${glyphs[i]}。点按改写此句，并重写其后各句`);
  const last = [...glyphs[i]].length - 1;
  [...glyphs[i]].forEach((char, j) => {
    const classes = [given.has(`${i},${j}`) ? "given" : "", j === last && poem.rhyme_positions.includes(i) ? "rhyme" : ""];
    line.append(charNode(char, [...(poem.tones[i] || "")][j] || "？", classes.filter(Boolean)));
  });
  line.append(element("span", "punct", i % 2 ? "。" : "，"));
  line.addEventListener("click", () => onEdit(line, i));
  return line;
}

function factsNodes(poem, form) {
  const facts = element("p", "summary");
  // An opening that filled its form (a last line edited) comes back with nothing written and score 0:
  // a mean log-probability of written characters is always below 0.
  const written = poem.score !== 0;
  facts.append(element("span", "form", form), element("span", "rhyme-group", poem.rhyme_group ? `${poem.rhyme_group}韵` : "未押韵"),
    element("span", "score", written ? `得分 ${poem.score.toFixed(2)}` : "无新句"));
  const checks = element("ul", "checks");
  for (const [name, label] of Object.entries(CHECKS)) {
    if (!(name in poem.constraints)) continue;
    const held = poem.constraints[name];
    const item = element("li", held ? "held" : "broken", `${held ? "✓" : "✗"} ${label}`);
    checks.append(item);
  }
  return [facts, checks];
}

/** A finished poem: tones, rhyme marks, facts; each line a button that opens it for editing. */
export function renderFinal(card, poem, { form, given, glyphLines, onEdit }) {
  const glyphs = glyphLines || poem.lines;
  const body = card.querySelector(".poem-body");
  body.replaceChildren(...glyphs.map((_, i) => lineNode(poem, glyphs, i, given, (line, index) => onEdit(card, line, index))));
  card.querySelector(".facts").replaceChildren(...factsNodes(poem, form));
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
