// This browser's poems, kept in localStorage (never sent anywhere).

const KEY = "bert-poet.history.v1";
const LIMIT = 60;

/** The saved poems, newest first; an unreadable store counts as empty. */
export function loadHistory() {
  try {
    const entries = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(entries) ? entries : [];
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

/** Add a poem, or replace the entry with the same id (a different candidate was picked). */
export function rememberPoem(entry) {
  save([entry, ...loadHistory().filter((old) => old.id !== entry.id)]);
}

export function clearHistory() {
  save([]);
}

/** Fill the list with one button per saved poem; onPick(entry) shows it again. */
export function renderHistory(list, empty, onPick) {
  const entries = loadHistory();
  list.replaceChildren(...entries.map((entry) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "history-item";
    const first = document.createElement("span");
    first.className = "first-line";
    first.textContent = entry.poem.lines[0] || "";
    const meta = document.createElement("span");
    meta.className = "meta";
    const when = new Date(entry.time).toLocaleString("zh-CN", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
    meta.textContent = `${entry.form} · ${entry.modeLabel} · ${when}`;
    button.append(first, meta);
    button.addEventListener("click", () => onPick(entry));
    item.append(button);
    return item;
  }));
  empty.hidden = entries.length > 0;
}
