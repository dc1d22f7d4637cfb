// Checks the input as it is typed, mirroring the model server's rules so mistakes show at once.

import { tuneOf } from "./tunes.js";

export const FORMS = {
  "五绝": { lines: 4, width: 5 },
  "七绝": { lines: 4, width: 7 },
  "五律": { lines: 8, width: 5 },
  "七律": { lines: 8, width: 7 },
};
export const MAX_TEXT = 64;
export const MAX_THEME = 50;
const MAX_HEADS = 8;
const HAN = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]$/u;
// CJK Extension B and later: Han characters all the same, but none is in the model's vocabulary.
const RARE_HAN = /^[\u{20000}-\u{323af}]$/u;
const LINE_END = /[，。？！；：\n]/u;
// ASCII and variant punctuation folded to full-width, as the engine does.
const FOLD = { ",": "，", "、": "，", ";": "；", "!": "！", "?": "？", ".": "。", ":": "：" };

const isHan = (char) => HAN.test(char);
const firstNonHan = (text) => [...text].find((char) => !isHan(char));
const notHan = (char, rule) => (RARE_HAN.test(char)
  ? `模型不会写「${char}」：这个生僻字不在它的字表里，请换一个字`
  : `${rule}：「${char}」不是`);
const ok = (fields) => ({ ok: true, message: "", ...fields });
const fail = (message) => ({ ok: false, message });
const waiting = (hint) => ({ ok: false, message: "", hint });

/** A form's shape: {lines, lengths (per line), stanzas (lines per 阕), tune (a 词's, else undefined)}. */
export function shapeOf(form) {
  const tune = tuneOf(form);
  if (tune) return { lines: tune.line_lengths.length, lengths: tune.line_lengths, stanzas: tune.stanzas, tune };
  const { lines, width } = FORMS[form] || FORMS["七绝"];
  return { lines, lengths: Array(lines).fill(width), stanzas: [lines], tune: undefined };
}

/** The mark a line typed without one gets: 诗 lines alternate ，。; a 词 line ends 。 at the end of its 阕
 * (the engine reads only where lines end, and writes each tune's own marks). */
function markAt(line, shape) {
  if (!shape.tune) return line % 2 ? "。" : "，";
  const ends = shape.stanzas.map((_, k) => shape.stanzas.slice(0, k + 1).reduce((a, b) => a + b, 0) - 1);
  return ends.includes(line) ? "。" : "，";
}

/** What 自动 means for a mode, said where the form is chosen. */
export const AUTO_FORM = {
  random: "自动：随机写七绝",
  theme: "自动：主题写七绝",
  acrostic: "自动：四字以内写七绝，多则七律",
  continue: "自动：由开头定五言或七言，绝句有余地则写绝句，否则律诗",
};

/** Which form a request will get: the chosen one, else the engine's default for the mode. */
export function effectiveForm(mode, form, count = 0, width = 7) {
  if (form) return form;
  if (mode === "acrostic") return count <= 4 ? "七绝" : "七律";
  // continue: count is the opening's whole lines; a 绝句 while it has room, else the 律诗
  if (mode === "continue") return width === 5 ? (count < 4 ? "五绝" : "五律") : count < 4 ? "七绝" : "七律";
  return "七绝";
}

function checkAcrostic(raw, form) {
  const heads = raw.replace(/\s+/gu, "");
  const tune = tuneOf(form);
  // A 词 has a head for each line but its 叠句, which open as the line they repeat.
  const ownLines = tune ? tune.line_lengths.map((_, line) => line).filter((line) => !(tune.repeats || []).includes(line)) : null;
  const room = ownLines ? ownLines.length : form ? shapeOf(form).lines : MAX_HEADS;
  if (!heads) return waiting(`输入 1–${room} 个藏头字，每字起一句`);
  const bad = firstNonHan(heads);
  if (bad) return fail(notHan(bad, "藏头字只能是汉字"));
  const count = [...heads].length;
  if (count > room) {
    return fail(form ? `${form}只有 ${room} 句可以藏头，放不下 ${count} 个藏头字` : `藏头字最多 ${MAX_HEADS} 个，现有 ${count} 个`);
  }
  const chosen = effectiveForm("acrostic", form, count);
  const given = [...heads].map((char, index) => [ownLines ? ownLines[index] : index, 0, char]);
  return ok({ text: heads, form: chosen, given, hint: `${count} 个藏头字 · ${chosen} ${shapeOf(chosen).lines} 句，依次以「${[...heads].join("」「")}」起句` });
}

/** The opening cut into lines: [{line, mark}], the last one possibly without a mark. */
function splitOpening(raw) {
  const text = [...raw].map((char) => FOLD[char] || char).join("")
    .replace(/[^\S\n]+/gu, "").replace(/([，。？！；：])\n+/gu, "$1").replace(/\n+/gu, "\n").replace(/^\n/gu, "");
  const pieces = [];
  let line = "";
  for (const char of text) {
    if (LINE_END.test(char)) {
      pieces.push({ line, mark: char });
      line = "";
    } else line += char;
  }
  if (line) pieces.push({ line, mark: "" });
  return pieces;
}

function openingWidth(complete, tail, form) {
  if (form) return FORMS[form].width;
  const widths = new Set(complete.map((piece) => [...piece.line].length));
  if (widths.size) return widths.size === 1 ? [...widths][0] : 0;
  const length = [...tail].length;  // unpunctuated: lines of 5 when it splits into 5s and not 7s
  return length % 5 === 0 && length % 7 !== 0 ? 5 : 7;
}

/** An unmarked tail cut into lines, the k-th of widthAt(k) characters: whole ones count as lines (marked "\n"),
 * the rest begins the next. */
function cutTail(tail, widthAt) {
  const chars = [...tail];
  const pieces = [];
  for (let i = 0, k = 0; i < chars.length; k += 1) {
    const width = widthAt(k);
    const line = chars.slice(i, (i += width));
    pieces.push({ line: line.join(""), mark: line.length === width ? "\n" : "" });
  }
  return pieces;
}

/** The opening as the engine reads it, and what the page says of it: {text, given, hint}, or a failure. */
function planOpening(pieces, form, shape) {
  const complete = pieces.filter((piece) => piece.mark);
  const partial = pieces.at(-1).mark ? "" : pieces.at(-1).line;
  const text = pieces.map((piece, i) => piece.line + (piece.mark === "\n" ? markAt(i, shape) : piece.mark)).join("");
  if ([...text].length > MAX_TEXT) return fail(`开头最多 ${MAX_TEXT} 字（含标点）`);
  const given = pieces.flatMap((piece, line) => [...piece.line].map((char, column) => [line, column, char]));
  const rest = shape.lines - complete.length;
  const plan = rest ? `${form}，续写其余 ${rest} 句` : `已是整首${form}，只标平仄与韵`;
  // A line typed without its end is finished by the model: said here, never done silently.
  const short = shape.lengths[complete.length] - [...partial].length;
  const unfinished = partial ? `又 ${[...partial].length} 字（第 ${complete.length + 1} 句由模型补足 ${short} 字）` : "";
  return ok({ text, form, given, hint: `已有 ${complete.length} 句${unfinished} · ${plan}` });
}

/** A 词's opening: each marked line as long as the tune's line there; unmarked characters fill its lines in order. */
function checkTuneOpening(pieces, form, shape) {
  const marked = pieces.filter((piece) => piece.mark);
  const wrong = marked.findIndex((piece, i) => [...piece.line].length !== shape.lengths[i]);
  if (wrong >= shape.lines) return fail(`开头有 ${marked.length} 句，${form}只有 ${shape.lines} 句`);
  if (wrong >= 0) {
    const has = [...marked[wrong].line].length;
    return fail(`第 ${wrong + 1} 句有 ${has} 字，${form}第 ${wrong + 1} 句 ${shape.lengths[wrong]} 字（${shape.tune.pattern}）`);
  }
  const tail = pieces.at(-1).mark ? "" : pieces.at(-1).line;
  const room = shape.lengths.slice(marked.length).reduce((a, b) => a + b, 0);
  if ([...tail].length > room) return fail(`开头比整首${form}还长（${shape.tune.characters} 字）`);
  return planOpening([...marked, ...cutTail(tail, (k) => shape.lengths[marked.length + k])], form, shape);
}

function checkContinue(raw, form) {
  let pieces = splitOpening(raw);
  const tune = tuneOf(form);
  if (!pieces.length) return waiting(`写下开头一两句，以「，」「。」或换行分句${tune ? `（${form}：${tune.pattern}）` : ""}`);
  if (pieces.some((piece) => !piece.line)) return fail("开头里有空句：两个标点之间须有字");
  const bad = firstNonHan(pieces.map((piece) => piece.line).join(""));
  if (bad) return fail(notHan(bad, "开头只能是汉字和标点"));
  if (tune) return checkTuneOpening(pieces, form, shapeOf(form));
  const marked = pieces.filter((piece) => piece.mark);
  const tail = pieces.at(-1).mark ? "" : pieces.at(-1).line;
  const width = openingWidth(marked, tail, form);
  const wrong = marked.findIndex((piece) => [...piece.line].length !== width);
  if (width !== 5 && width !== 7) return fail("开头各句须同为五字或七字");
  if (wrong >= 0) {
    const other = form ? `；换诗体，或选「自动」由开头定五言七言` : "";
    return fail(`第 ${wrong + 1} 句有 ${[...marked[wrong].line].length} 字，${form || "这首诗"}每句 ${width} 字${other}`);
  }
  pieces = [...marked, ...cutTail(tail, () => width)];  // as the engine reads it: lines typed without marks are lines
  const chosen = effectiveForm("continue", form, pieces.filter((piece) => piece.mark).length, width);
  if (pieces.length > FORMS[chosen].lines) return fail(`开头有 ${pieces.length} 句，${chosen}只有 ${FORMS[chosen].lines} 句`);
  return planOpening(pieces, chosen, shapeOf(chosen));
}

function checkTheme(raw) {
  const theme = raw.trim();
  if (!theme) return waiting("一句话或几个词，模型从中取关键词入诗");
  if (/[A-Za-z0-9]/u.test(theme)) return fail("主题只能用汉字（可带标点）");
  if (![...theme].some(isHan)) return fail("主题里至少要有一个汉字");
  if ([...theme.replace(/\s+/gu, "")].length > MAX_THEME) return fail(`主题最多 ${MAX_THEME} 字`);  // spaces do not count
  return ok({ text: theme, form: null, given: [], hint: "模型会从主题中取关键词入诗" });
}

/** {ok, message, hint, text, form, given} for the current mode, form and input. */
export function validate(mode, form, raw) {
  if (form && !FORMS[form] && !tuneOf(form)) return waiting(`正在读取词牌「${form}」…`);
  if (mode === "acrostic") return checkAcrostic(raw, form);
  if (mode === "continue") return checkContinue(raw, form);
  // Random and theme poems name no form of their own: say what 自动 will write.
  const auto = form ? "" : ` · ${AUTO_FORM[mode]}`;
  if (mode === "theme") {
    const result = checkTheme(raw);
    return result.ok ? { ...result, form: effectiveForm("theme", form), hint: result.hint + auto } : result;
  }
  return ok({ text: "", form: effectiveForm("random", form), given: [], hint: `随机模式无需输入，直接作诗${auto}` });
}

/** An edited line is acceptable when it has exactly as many Han characters as the line it replaces. */
export function validateLine(line, width) {
  const chars = [...line.trim()];
  const bad = firstNonHan(chars.join(""));
  if (bad) return notHan(bad, "只能是汉字");
  if (chars.length !== width) return `这一句须 ${width} 字，现有 ${chars.length} 字`;
  return "";
}
