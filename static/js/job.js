// A job: what one press of a button writes. {request, form, given ("line,column" -> the user's character),
// heads (an acrostic's later heads, each written by a request of its own), label and text (for the history)}.

import { streamPoems } from "./api.js";
import { marksOf, renderStreaming } from "./poem.js";

/** Lines with their marks: a poem's own (a 词's tune has its own), else ，。 in turn. */
export const withMarks = (lines, marks = []) => lines.map((line, i) => line + (marks[i] || (i % 2 ? "。" : "，")));

/** The heads the lines after `index` keep: [[line, character]] in order, for each later line whose only
 * given character is its first (an acrostic's); lines the user wrote whole are rewritten as before. */
function laterHeads(given, index) {
  const columns = new Map();
  for (const [key, char] of given) {
    const [line, column] = key.split(",").map(Number);
    if (line > index) columns.set(line, [...(columns.get(line) || []), [column, char]]);
  }
  return [...columns].filter(([, cells]) => cells.length === 1 && cells[0][0] === 0 && cells[0][1])
    .map(([line, cells]) => [line, cells[0][1]]).sort((a, b) => a[0] - b[0]);
}

/** The opening of the step that writes `line` of poem from its head: the lines before it, then the head. */
function headOpening(poem, line, head) {
  return withMarks(poem.lines.slice(0, line), marksOf(poem)).join("") + head;
}

/** A progress text cut after its first `count` lines: the engine writes on past a head it was not given,
 * and those lines are thrown away, so they are never shown. */
function firstLines(text, count) {
  return text.split(/(?<=[，。？！；：])/u).slice(0, count).join("");
}

/** The job that rewrites a poem from its line `index`, now newLine; extra: the request's options. */
export function editJob(poem, form, given, index, newLine, extra) {
  const heads = laterHeads(given, index);
  const kept = new Map([...given].filter(([key]) => Number(key.split(",")[0]) < index));
  [...newLine].forEach((char, j) => kept.set(`${index},${j}`, char));
  heads.forEach(([line, head]) => kept.set(`${line},0`, head));
  const edited = { ...poem, lines: [...poem.lines.slice(0, index), newLine] };
  // The next line's head goes in the first request; each head further on takes a request of its own.
  const first = heads[0]?.[0] === index + 1 ? heads.shift() : null;
  const text = first ? headOpening(edited, ...first) : withMarks(edited.lines, marksOf(poem)).join("");
  // Written in steps, only the first candidate could go on: one poem then.
  const request = { mode: "continue", form, text, ...extra, ...(heads.length ? { n: 1 } : {}) };
  return { request, form, given: kept, heads, label: "改写", text: newLine };
}

/** Write the job's poems into cards character by character; resolves to the result. */
export async function writeJob(job, cards, signal) {
  let { request } = job;
  let elapsed = 0;
  for (let step = 0; ; step += 1) {
    const next = job.heads[step];  // [line, head]: this step's poem is kept up to that line
    const result = await streamPoems(request, ({ index, text }) => {
      if (cards[index]) renderStreaming(cards[index], next ? firstLines(text, next[0]) : text, job.form, job.given);
    }, signal);
    elapsed += result.elapsed_ms;
    if (!next) return { ...result, elapsed_ms: elapsed };
    request = { ...request, text: headOpening(result.poems[0], ...next) };
  }
}
