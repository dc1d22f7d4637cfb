// Checks the input as it is typed, mirroring the model server's rules so mistakes show at once; the
// limits, the forms' shapes and the form 自动 writes are the contract's (/api/info), and what the page
// cannot tell here the model server says.

import { autoForms, formShape, maxText, modeLabel } from "./contract.js";
import { tuneOf } from "./tunes.js";

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

/** A form's shape: {lines, lengths (per line), stanzas (lines per 阕), marks (closing each line), repeats (叠句),
 * tune (a 词's, else undefined)}; a form not (yet) known has no lines. */
export function shapeOf(form) {
  const tune = tuneOf(form);
  const shape = tune || formShape(form);
  if (!shape) return { lines: 0, lengths: [], stanzas: undefined, marks: [], repeats: [], tune: undefined };
  const { line_lengths: lengths, stanzas, marks, repeats } = shape;
  return { lines: lengths.length, lengths, stanzas, marks, repeats, tune };
}

/** The lines an acrostic's heads open, in order: all but a 词's 叠句, which opens as the line it repeats. */
const headLines = (shape) => [...Array(shape.lines).keys()].filter((line) => !shape.repeats.includes(line));

/** The line lengths an opening may have where no form is named, shortest first. */
const openingWidths = () => [...new Set(autoForms("continue").map((row) => row.width))].sort((a, b) => a - b);

/** Runs of counts that get the same form, said in a line: "1–4 个藏头字写…，5–8 个藏头字写…". */
function describeRuns(rows, unit) {
  const runs = [];
  for (const { lines, form } of rows) {
    const last = runs.at(-1);
    if (last?.form === form && last.to === lines - 1) last.to = lines;
    else runs.push({ from: lines, to: lines, form });
  }
  return runs.map(({ from, to, form }) => `${from === to ? from : `${from}–${to}`} ${unit}写${form}`).join("，");
}

/** What 自动 writes in a mode, said where the form is chosen: the engine's choice (/api/info's auto_forms). */
export function autoText(mode) {
  if (mode === "acrostic") return `自动：${describeRuns(autoForms(mode), "个藏头字")}`;
  if (mode === "continue") {
    return `自动：${openingWidths().map((width) => `${width} 字一句，已有 ${describeRuns(autoForms(mode, width), "句")}`).join("；")}`;
  }
  const [row] = autoForms(mode);
  return row ? `自动：${modeLabel(mode)}写${row.form}` : "";
}

/** The form a request gets: the chosen one, else the engine's choice for its mode and count (undefined where
 * the engine has none: more heads or lines than any form holds). */
function formFor(mode, form, count = 0, width = 0) {
  return form || autoForms(mode, width).find((row) => row.lines === count)?.form;
}

function checkAcrostic(raw, form) {
  const heads = raw.replace(/\s+/gu, "");
  // Without a form, as many heads as the engine's choice has rows for.
  const room = form ? headLines(shapeOf(form)).length : autoForms("acrostic").at(-1)?.lines || 0;
  if (!heads) return waiting(`输入 1–${room} 个藏头字，每字起一句`);
  const bad = firstNonHan(heads);
  if (bad) return fail(notHan(bad, "藏头字只能是汉字"));
  const count = [...heads].length;
  if (count > room) {
    return fail(form ? `${form}只有 ${room} 句可以藏头，放不下 ${count} 个藏头字` : `藏头字最多 ${room} 个，现有 ${count} 个`);
  }
  const chosen = formFor("acrostic", form, count);
  const shape = shapeOf(chosen);
  const lines = headLines(shape);
  const given = [...heads].map((char, index) => [lines[index], 0, char]);
  return ok({ text: heads, form: chosen, given, hint: `${count} 个藏头字 · ${chosen} ${shape.lines} 句，依次以「${[...heads].join("」「")}」起句` });
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
  if (form) return shapeOf(form).lengths[0];
  const widths = new Set(complete.map((piece) => [...piece.line].length));
  if (widths.size) return widths.size === 1 ? [...widths][0] : 0;
  // Unpunctuated, as the engine reads it: lines of the shorter length where it splits into those and not the longer.
  const [short, long] = [openingWidths()[0], openingWidths().at(-1)];
  const length = [...tail].length;
  return length % short === 0 && length % long !== 0 ? short : long;
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
  const text = pieces.map((piece, i) => piece.line + (piece.mark === "\n" ? shape.marks[i] : piece.mark)).join("");
  if ([...text].length > maxText()) return fail(`开头最多 ${maxText()} 字（含标点）`);
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
  if (!openingWidths().includes(width)) return fail(`开头各句须同为 ${openingWidths().join(" 字或 ")} 字`);
  if (wrong >= 0) {
    const other = form ? `；换诗体，或选「自动」由开头定五言七言` : "";
    return fail(`第 ${wrong + 1} 句有 ${[...marked[wrong].line].length} 字，${form || "这首诗"}每句 ${width} 字${other}`);
  }
  pieces = [...marked, ...cutTail(tail, () => width)];  // as the engine reads it: lines typed without marks are lines
  const whole = pieces.filter((piece) => piece.mark).length;
  // Past the engine's last row the opening has more lines than the longest form of its width: said of that form.
  const chosen = formFor("continue", form, whole, width) || autoForms("continue", width).at(-1).form;
  const shape = shapeOf(chosen);
  if (pieces.length > shape.lines) return fail(`开头有 ${pieces.length} 句，${chosen}只有 ${shape.lines} 句`);
  return planOpening(pieces, chosen, shape);
}

// Random and theme poems name no form of their own: their hint says what 自动 will write.
const autoHint = (mode, form) => (form ? "" : ` · ${autoText(mode)}`);

// A theme's length is the model server's to judge (its limit is below the text's).
function checkTheme(raw, form) {
  const theme = raw.trim();
  if (!theme) return waiting("一句话或几个词，模型从中取关键词入诗");
  if (/[A-Za-z0-9]/u.test(theme)) return fail("主题只能用汉字（可带标点）");
  if (![...theme].some(isHan)) return fail("主题里至少要有一个汉字");
  return ok({ text: theme, form: formFor("theme", form), given: [], hint: `模型会从主题中取关键词入诗${autoHint("theme", form)}` });
}

function checkRandom(_raw, form) {
  return ok({ text: "", form: formFor("random", form), given: [], hint: `随机模式无需输入，直接作诗${autoHint("random", form)}` });
}

const CHECKS = { acrostic: checkAcrostic, continue: checkContinue, theme: checkTheme, random: checkRandom };

/** {ok, message, hint, text, form, given} for the current mode, form and input. */
export function validate(mode, form, raw) {
  if (form && !shapeOf(form).lines) return waiting(`正在读取词牌「${form}」…`);
  const check = CHECKS[mode];
  // A mode /api/info lists that the page has no check for: its text goes as typed, for the model server to judge.
  return check ? check(raw, form) : ok({ text: raw.trim(), form: form || null, given: [], hint: "" });
}

/** An edited line is acceptable when it has exactly as many Han characters as the line it replaces. */
export function validateLine(line, width) {
  const chars = [...line.trim()];
  const bad = firstNonHan(chars.join(""));
  if (bad) return notHan(bad, "只能是汉字");
  if (chars.length !== width) return `这一句须 ${width} 字，现有 ${chars.length} 字`;
  return "";
}
