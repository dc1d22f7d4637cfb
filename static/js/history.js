// This browser's poems, kept in localStorage (never sent anywhere), and their export as a JSON file.

import { element } from "./dom.js";

const KEY = "bert-poet.history.v1";
const LIMIT = 60;
const SHOWN_TEXT = 12;  // characters of the user's text a history entry shows

/** The saved poems, newest first; an unreadable store counts as empty. */
export function loadHistory() {
  try {
    const entries = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(entries) ? entries.filter((entry) => entry?.poem?.lines) : [];
  } catch {
    return [];
  }
}

function save(entries) {
  try {
    localStorage.setItem(KEY, JSON.stringify(entries.slice(0, LIMIT)));
  } catch {
    // A full or disabled store only costs the history, never the poem on screen.
  }
}

/** Add a poem, or replace the entry with the same id (a different candidate was picked) or the same poem
 * (written again or judged again): the same poem is kept once, newest. */
export function rememberPoem(entry) {
  save([entry, ...loadHistory().filter((old) => old.id !== entry.id && old.poem.text !== entry.poem.text)]);
}

export function clearHistory() {
  save([]);
}

/** The whole history as a JSON file's contents. */
export function historyFile() {
  return new Blob([JSON.stringify(loadHistory(), null, 2)], { type: "application/json" });
}

/** What the user asked for: mode, form and their own text, e.g. 藏头「春夏秋冬」 · 七绝. */
export function describeEntry(entry) {
  const chars = [...(entry.text || "")];
  const text = chars.length > SHOWN_TEXT ? `${chars.slice(0, SHOWN_TEXT).join("")}…` : chars.join("");
  return `${entry.modeLabel}${text ? `「${text}」` : ""} · ${entry.form}`;
}

/** Fill the list with one button per saved poem; onPick(entry) shows it again. */
export function renderHistory(list, empty, onPick) {
  const entries = loadHistory();
  list.replaceChildren(...entries.map((entry) => {
    const item = document.createElement("li");
    const button = element("button", "history-item");
    button.type = "button";
    const when = new Date(entry.time).toLocaleString("zh-CN", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
    button.append(element("span", "asked", describeEntry(entry)), element("span", "first-line", entry.poem.lines[0] || ""),
      element("span", "meta", when));
    button.addEventListener("click", () => onPick(entry));
    item.append(button);
    return item;
  }));
  empty.hidden = entries.length > 0;
}
