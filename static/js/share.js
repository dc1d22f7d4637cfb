// Sharing a poem: its text, a link whose query writes it again, and a PNG of its card drawn on a canvas.

import { ciText, stanzaStarts } from "./ci.js";
import { withMarks } from "./job.js";
import { SWITCHES } from "./options.js";

const NUMBERS = ["seed", "n", "temperature"];
const CELL = 64;  // pixels per character in the image
const MARGIN = 72;

/** The poem as text to paste: a 诗 one couplet a line; a 词 (tune given) titled, one 阕 a paragraph. */
export function poemText(lines, marks, tune) {
  if (tune) return ciText(lines, marks, tune);
  const marked = withMarks(lines, marks);
  return marked.filter((_, i) => i % 2 === 0).map((line, k) => line + (marked[2 * k + 1] || "")).join("\n");
}

/** A link to this page that asks for the same request again (the seed makes it the same poem). */
export function poemLink(request, pick = 0) {
  const url = new URL(window.location.pathname, window.location.origin);
  for (const name of ["mode", "form", "text", ...NUMBERS, "rhyme_tone"]) {
    if (request[name] !== undefined && request[name] !== "") url.searchParams.set(name, String(request[name]));
  }
  for (const name of SWITCHES) if (name in request) url.searchParams.set(name, request[name] ? "1" : "0");
  if (pick) url.searchParams.set("pick", String(pick));
  return url.href;
}

/** What a link's query asks for: {mode, form, text, seed, n, temperature, rhyme_tone, pick, and switches},
 * each present only where the query has it. */
export function readLink(search) {
  const query = new URLSearchParams(search);
  const asked = {};
  for (const name of ["mode", "form", "text", "rhyme_tone"]) if (query.has(name)) asked[name] = query.get(name);
  for (const name of [...NUMBERS, "pick"]) {
    const value = Number(query.get(name));
    if (query.has(name) && Number.isFinite(value)) asked[name] = value;
  }
  for (const name of SWITCHES) if (query.has(name)) asked[name] = query.get(name) === "1";
  return asked;
}

function palette() {
  const style = getComputedStyle(document.documentElement);
  const css = (name) => style.getPropertyValue(name).trim();
  return { sheet: css("--sheet"), ink: css("--ink"), soft: css("--ink-soft"), accent: css("--vermilion"), serif: css("--serif") };
}

/** Where each character of each line goes: [x, y] of its cell's centre, right to left in columns when vertical;
 * each new 阕 (a line in starts, past the first) a step further on. */
function layout(lines, vertical, starts) {
  const width = Math.max(...lines.map((line) => [...line].length)) + 1;  // and its mark
  const step = CELL * 1.5;  // between lines
  const offset = (i) => i * step + starts.filter((start) => start > 0 && start <= i).length * step;
  const depth = offset(lines.length - 1) + CELL;
  const size = vertical ? [2 * MARGIN + depth, 2 * MARGIN + CELL * width] : [2 * MARGIN + CELL * width, 2 * MARGIN + depth];
  const at = (i, j) => (vertical
    ? [size[0] - MARGIN - CELL / 2 - offset(i), MARGIN + CELL / 2 + j * CELL]
    : [MARGIN + CELL / 2 + j * CELL, MARGIN + CELL / 2 + offset(i)]);
  return { size, at };
}

/** A PNG of the poem as its card shows it (glyphs: the lines as shown, e.g. traditional), horizontal or vertical,
 * with its marks; a 词 (stanzas: lines per 阕) with a break between its 阕. */
export function poemImage(poem, glyphs, { vertical, caption, marks, stanzas }) {
  const { size: [width, height], at } = layout(glyphs, vertical, stanzaStarts(stanzas || [glyphs.length]));
  const canvas = document.createElement("canvas");
  const scale = 2;  // sharp on a phone's screen
  Object.assign(canvas, { width: width * scale, height: (height + CELL) * scale });
  const ink = canvas.getContext("2d");
  const colors = palette();
  ink.scale(scale, scale);
  ink.fillStyle = colors.sheet;
  ink.fillRect(0, 0, width, height + CELL);
  ink.textAlign = "center";
  ink.textBaseline = "middle";
  ink.font = `${CELL * 0.72}px ${colors.serif}`;
  glyphs.forEach((line, i) => {
    const chars = [...line, marks[i] || (i % 2 ? "。" : "，")];
    chars.forEach((char, j) => {
      const rhyme = j === chars.length - 2 && poem.rhyme_positions.includes(i);
      ink.fillStyle = j === chars.length - 1 ? colors.soft : rhyme ? colors.accent : colors.ink;
      ink.fillText(char, ...at(i, j));
    });
  });
  ink.font = `${CELL * 0.26}px ${colors.serif}`;
  ink.fillStyle = colors.soft;
  ink.fillText(caption, width / 2, height + CELL / 4);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("toBlob"))), "image/png"));
}
