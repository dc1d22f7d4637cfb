// A 词 set in its 阕 (stanzas): lines of many lengths grouped by stanza with a visible break between
// 上阕 and 下阕, the same in the horizontal and the vertical (竖排) layout; and its text to paste.

import { element } from "./dom.js";

const STANZA_NAMES = { 1: [""], 2: ["上阕", "下阕"], 3: ["上阕", "中阕", "下阕"] };

/** The line index each stanza starts at, e.g. [3, 3] -> [0, 3]. */
export function stanzaStarts(stanzas) {
  let at = 0;
  return stanzas.map((count) => { const start = at; at += count; return start; });
}

/** The line nodes of a 词 grouped into one block per 阕 (lines past the tune's count stay in the last one). */
export function stanzaNodes(lines, stanzas) {
  const starts = stanzaStarts(stanzas);
  const names = STANZA_NAMES[stanzas.length] || [];
  return starts.map((start, k) => {
    const block = element("div", "stanza");
    const name = names[k] || `第${k + 1}阕`;
    if (stanzas.length > 1) {
      block.dataset.stanza = name;
      block.setAttribute("role", "group");
      block.setAttribute("aria-label", name);
    }
    block.append(...lines.slice(start, k + 1 < starts.length ? starts[k + 1] : undefined));
    return block;
  });
}

/** Lay lines into a poem's body: a 词 by 阕, a 诗 line after line; --columns counts the 竖排 columns
 * (a stanza break takes about one). */
export function layLines(body, lines, shape) {
  const ci = Boolean(shape.tune);
  body.classList.toggle("ci", ci);
  body.replaceChildren(...(ci ? stanzaNodes(lines, shape.stanzas) : lines));
  body.style.setProperty("--columns", String(lines.length + (ci ? shape.stanzas.length - 1 : 0)));
}

/** A 词 as text to paste: its tune as the title, then each 阕 as one paragraph with the tune's marks. */
export function ciText(lines, marks, tune) {
  const starts = stanzaStarts(tune.stanzas);
  const stanzas = starts.map((start, k) => lines.slice(start, starts[k + 1]).map((line, i) => line + (marks[start + i] || "")).join(""));
  return [tune.name, ...stanzas].join("\n");
}
