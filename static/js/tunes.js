// 词 tunes (词牌) as the model server lists them in /api/info, and the composer's searchable picker.

import { element } from "./dom.js";

const tunes = new Map();  // name -> {name, pattern, line_lengths, stanzas, characters}, most written first
let read = false;  // whether the model server has said which tunes it writes (perhaps none)

/** Keep the tunes the model server listed (GET /api/info's "tunes"). */
export function setTunes(list) {
  tunes.clear();
  for (const tune of list || []) tunes.set(tune.name, tune);
  read = true;
}

/** The tune called name, or undefined (a 诗 form, or tunes not yet read). */
export const tuneOf = (name) => tunes.get(name);

/** 单调 (one stanza) or 双调 (two 阕). */
export const tuneKind = (tune) => (tune.stanzas.length > 1 ? "双调" : "单调");

/** What the picker says of a tune: 双调 · 42 字 · 7-7-7 / 7-7-7. */
export const describeTune = (tune) => `${tuneKind(tune)} · ${tune.characters} 字 · ${tune.pattern}`;

function optionNode(tune, index) {
  const option = element("li", "tune-option");
  option.id = `tune-option-${index}`;
  option.setAttribute("role", "option");
  option.dataset.name = tune.name;
  option.append(element("span", "tune-name", tune.name), element("span", "tune-kind", `${tuneKind(tune)} · ${tune.characters} 字`),
    element("span", "tune-pattern", tune.pattern));
  return option;
}

/** The picker over #tune (a combobox), #tune-list (its listbox) and #tune-info: typing filters the tunes by
 * name, a click, Enter or leaving the box on a whole name chooses one; onChange(name) hears every change
 * ("" when cleared). Returns {value(), choose(name), clear(), refresh()}. */
export function tunePicker(onChange) {
  const $ = (selector) => document.querySelector(selector);
  const [input, list, info] = [$("#tune"), $("#tune-list"), $("#tune-info")];
  let chosen = "";
  let active = -1;
  const options = () => [...list.children];

  function show(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    if (!open) input.removeAttribute("aria-activedescendant");
  }
  function filter() {
    const query = input.value.trim();
    const found = [...tunes.values()].filter((tune) => tune.name.includes(query) || query === chosen);
    const none = !read ? "正在读取词牌…" : tunes.size ? `没有含「${query}」的词牌` : "这个模型还不会写词";
    list.replaceChildren(...(found.length ? found.map(optionNode) : [element("li", "tune-none", none)]));
    active = -1;
    show(true);
  }
  function highlight(index) {
    const all = options().filter((option) => option.dataset.name);
    if (!all.length) return;
    active = (index + all.length) % all.length;
    all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", all[active].id);
    all[active].scrollIntoView({ block: "nearest" });
  }
  function choose(name) {
    chosen = name;
    input.value = name;
    const tune = tuneOf(name);
    info.textContent = tune ? describeTune(tune) : "";
    $("#tune-clear").hidden = !name;
    show(false);
    onChange(name);
  }
  function leave() {
    // A whole name typed counts as chosen; anything else puts back what was chosen.
    const typed = input.value.trim();
    if (typed !== chosen && tuneOf(typed)) choose(typed);
    else input.value = chosen;
    show(false);
  }
  input.addEventListener("click", filter);  // not on focus: tabbing through, or back from 不用词牌, leaves the list shut
  input.addEventListener("input", filter);
  input.addEventListener("blur", leave);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) filter();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault();  // never submits the poem from here
      const option = options().filter((item) => item.dataset.name)[Math.max(active, 0)];
      if (!list.hidden && option) choose(option.dataset.name);
    } else if (event.key === "Escape" && !list.hidden) {
      event.stopPropagation();
      input.value = chosen;
      show(false);
    }
  });
  list.addEventListener("mousedown", (event) => event.preventDefault());  // keeps the focus, so blur does not close it first
  list.addEventListener("click", (event) => {
    const option = event.target.closest("[data-name]");
    if (option) choose(option.dataset.name);
  });
  $("#tune-clear").addEventListener("click", () => { choose(""); input.focus(); });
  return {
    value: () => chosen,
    choose,
    clear: () => { if (chosen) choose(""); else input.value = ""; },
    /** The tunes were read: the chosen one is described, or dropped (returns its name) if the model server has no such tune. */
    refresh: () => {
      const unknown = chosen && !tuneOf(chosen) ? chosen : "";
      if (chosen) choose(unknown ? "" : chosen);
      return unknown;
    },
  };
}
