// The studio page: input checked as you type, poems streamed in, then edited, converted, shared, kept.

import { requestJSON } from "./js/api.js";
import { contractRead, field, isPoemForm, maxText, modeLabel, setContract } from "./js/contract.js";
import { saveFile } from "./js/dom.js";
import { glossaryNode } from "./js/facts.js";
import { clearHistory, describeEntry, historyFile, rememberPoem, renderHistory } from "./js/history.js";
import { editJob, withMarks, writeJob } from "./js/job.js";
import { readOptions, seedProblem, setLimits, setOptions, tuneDecides } from "./js/options.js";
import { marksOf, openLineEditor, renderFinal, renderStreaming } from "./js/poem.js";
import { poemImage, poemLink, poemText, readLink } from "./js/share.js";
import { hideError, retryNow, say, setDown, setHealth, showError } from "./js/status.js";
import { setTunes, tuneOf, tunePicker } from "./js/tunes.js";
import { autoText, shapeOf, validate } from "./js/validate.js";

const $ = (selector) => document.querySelector(selector);
const text = $("#text");
const poems = $("#poems");
// What the text box holds in each mode (the modes themselves, and their names, come from /api/info).
const TEXT_BOX = {
  random: { name: "随机", placeholder: "随机模式无需输入", unused: true },
  continue: { name: "开头", placeholder: "白日依山尽，黄河入海流。", multiline: true },
  acrostic: { name: "藏头字", placeholder: "春夏秋冬" },
  theme: { name: "主题", placeholder: "秋夜怀人" },
};
const textBox = (mode) => TEXT_BOX[mode] || { name: field("text").zh, placeholder: "" };
const HEALTH_EVERY_MS = 15_000;
const MAX_SEED = 2 ** 48;  // a seed the page draws: exact as a JavaScript number
const tunes = tunePicker((name) => {
  if (name) document.querySelectorAll("input[name=form]").forEach((input) => { input.checked = false; });
  else if (!$("input[name=form]:checked")) $("#form-auto").checked = true;
  refresh();
});
const state = {
  mode: null,  // until /api/info has been read
  drafts: {}, check: null, job: null, redo: null, result: null, given: new Map(), pick: 0,
  selected: 0, historyId: "", controller: null, converted: [], pinyin: [], rules: null, info: null,
};

const currentForm = () => tunes.value() || $("input[name=form]:checked")?.value || "";
const givenMap = (cells) => new Map(cells.map((cell) => (Array.isArray(cell) ? [`${cell[0]},${cell[1]}`, cell[2] || ""] : [cell, ""])));
const motion = () => (matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth");

/** Ask the web app whether the model serves; quiet checks (the periodic ones) only change the status. */
async function checkHealth(quiet = false) {
  try {
    await requestJSON("/api/health");
    setHealth("ok", "模型就绪");
    hideError(checkHealth);
    if (!state.rules) loadInfo();
  } catch (error) {
    setDown(error);
    if (!quiet) showError(error, checkHealth);
  }
}

/** The request contract (modes, forms, limits), the rules a fault can name with their descriptions, and the
 * 词 tunes, from the model server's info (asked once at a time: the start and the first health check both ask). */
function loadInfo() {
  state.info ??= readInfo().finally(() => { state.info = null; });
  return state.info;
}

async function readInfo() {
  let info;
  try {
    info = await requestJSON("/api/info");
  } catch {
    return;  // asked again at the next health check; meanwhile the composer waits and faults go undescribed
  }
  setTunes(info.tunes);
  state.rules = info.rules || {};
  const asked = contractRead() ? null : openComposer(info);
  const unknown = tunes.refresh();
  if (unknown) say(`模型服务没有「${unknown}」这个词牌`);
  refresh();
  if (state.result) renderPoems();  // a poem shown meanwhile gets its faults described, a 词 its 阕
  // A shared link that names a seed writes its poem at once.
  if (asked && "seed" in asked && !$("#generate").disabled) $("#compose").requestSubmit();
}

/** Build the composer from the contract and set it as a shared link asks; returns what the link asked. */
function openComposer(info) {
  setContract(info);
  setLimits();
  const asked = readLink(window.location.search);
  setOptions(asked, maxText());
  if (asked.form && !isPoemForm(asked.form)) tunes.choose(asked.form);  // a 词 tune
  state.pick = asked.pick || 0;
  state.mode = $("input[name=mode]:checked").value;
  state.drafts[state.mode] = text.value;
  document.querySelectorAll("input[name=mode]").forEach((input) => input.addEventListener("change", switchMode));
  document.querySelectorAll("input[name=form]").forEach((input) => input.addEventListener("change", () => { tunes.clear(); refresh(); }));
  return asked;
}

/** Re-check the input (and seed) and say why the poem cannot be written yet, if it cannot. */
function refresh() {
  if (!state.mode) {
    $("#hint").textContent = "正在向模型服务读取可用的方式、诗体与选项…";
    $("#generate").disabled = true;
    return;
  }
  const mode = $("input[name=mode]:checked").value;
  const box = textBox(mode);
  $("#text-label").textContent = box.name;
  text.placeholder = box.placeholder;
  text.disabled = Boolean(box.unused);
  text.closest(".field").classList.toggle("idle", Boolean(box.unused));
  $("label[for=form-auto]").title = autoText(mode);
  state.check = validate(mode, currentForm(), text.value);
  tuneDecides(Boolean(tuneOf(currentForm())));
  const problem = state.check.message || seedProblem();
  $("#hint").textContent = state.check.hint || "";
  $("#message").textContent = problem;
  $("#message").classList.toggle("error", Boolean(problem));
  text.setAttribute("aria-invalid", String(Boolean(state.check.message)));
  $("#generate").disabled = !state.check.ok || Boolean(problem) || Boolean(state.controller);
}

function switchMode() {
  state.drafts[state.mode] = text.value;
  state.mode = $("input[name=mode]:checked").value;
  text.value = state.drafts[state.mode] || "";
  refresh();
}

function setBusy(busy) {
  $("#generate").textContent = busy ? "作诗中…" : "作诗";
  $("#stop").hidden = !busy;
  poems.setAttribute("aria-busy", String(busy));
  refresh();
}

function newCard(index) {
  const card = $("#poem-template").content.firstElementChild.cloneNode(true);
  card.dataset.index = String(index);
  card.querySelector(".pick").addEventListener("click", () => pick(index));
  card.querySelector(".copy").addEventListener("click", () => copyPoem(index));
  card.querySelector(".image").addEventListener("click", () => saveImage(index));
  card.querySelector(".share").addEventListener("click", () => shareLink(index));
  return card;
}

/** Run a job; the poem on screen stays until the new one is written. */
async function run(job) {
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  // A seed always, drawn here when none was asked for, so that a link can write the same poem again.
  const seed = job.request.seed ?? Math.floor(Math.random() * MAX_SEED);
  job = { ...job, request: { ...job.request, seed } };
  hideError();
  say("");
  const previous = { nodes: [...poems.childNodes], count: poems.dataset.count };
  const cards = Array.from({ length: job.request.n }, (_, i) => newCard(i));
  cards.forEach((card) => { card.classList.add("streaming"); renderStreaming(card, "", job.form, job.given); });
  poems.dataset.count = String(cards.length);
  poems.replaceChildren(...cards);
  cards[0].scrollIntoView({ block: "nearest", behavior: motion() });  // on a phone the stage is below the form
  setBusy(true);
  try {
    const result = await writeJob(job, cards, controller.signal);
    setHealth("ok", "模型就绪");
    state.job = job;
    // A whole poem sent back is only judged: 再写一首 then writes the last poem that was written afresh.
    if (result.poems.some((poem) => poem.score !== 0)) state.redo = job;
    showResult(result, job.given, true);
    poems.firstElementChild.scrollIntoView({ block: "nearest", behavior: motion() });  // its facts made it taller
  } catch (error) {
    if (state.controller !== controller) return;  // a newer request replaced this one
    poems.replaceChildren(...previous.nodes);
    poems.dataset.count = previous.count || "";
    if (error.name === "AbortError") say("已停止");
    else {
      showError(error, () => run(job));
      if (error.status !== 400) checkHealth(true);  // a stream cut by the model server says 200
    }
  } finally {
    if (state.controller === controller) state.controller = null;
    setBusy(Boolean(state.controller));
  }
}

function renderPoems() {
  const { result } = state;
  const showPinyin = $("#show-pinyin").checked;
  [...poems.querySelectorAll(".poem")].forEach((card, i) => {
    renderFinal(card, result.poems[i], {
      form: result.form, given: state.given, glyphLines: state.converted[i],
      pinyin: showPinyin ? state.pinyin[i] : undefined, rules: state.rules, onEdit: editLine,
    });
    card.classList.toggle("selected", result.poems.length > 1 && i === state.selected);
    const pickButton = card.querySelector(".pick");
    pickButton.hidden = result.poems.length < 2;
    pickButton.textContent = i === state.selected ? "已选" : "选这首";
    pickButton.setAttribute("aria-pressed", String(i === state.selected));
  });
}

function showResult(result, given, fresh) {
  const selected = fresh && state.pick < result.poems.length ? state.pick : 0;
  Object.assign(state, { result, given, selected, converted: [], pinyin: [], pick: 0 });
  poems.dataset.count = String(result.poems.length);
  poems.replaceChildren(...result.poems.map((_, i) => newCard(i)));
  renderPoems();
  if (fresh) {
    state.historyId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    remember();
    const keywords = result.keywords?.length ? ` · 关键词：${result.keywords.join("、")}` : "";
    say(`${result.form}${keywords} · 用时 ${(result.elapsed_ms / 1000).toFixed(1)} 秒`);
  }
  $("#regenerate").disabled = !state.redo;
  if ($("#traditional").checked) convertPoems();
  if ($("#show-pinyin").checked) readPinyin();
}

function remember() {
  const { result, selected, job } = state;
  rememberPoem({
    id: state.historyId, time: Date.now(), form: result.form, mode: result.mode, modeLabel: job.label, text: job.text,
    request: job.heads.length ? null : job.request, poem: result.poems[selected], given: [...state.given],
  });
  renderHistory($("#history"), $("#history-empty"), showSaved);
}

function showSaved(entry) {
  hideError();
  state.historyId = entry.id;
  const given = givenMap(entry.given || []);
  state.job = { request: entry.request, form: entry.form, given, heads: [], label: entry.modeLabel, text: entry.text };
  if (entry.request && entry.poem.score !== 0) state.redo = state.job;
  showResult({ form: entry.form, mode: entry.mode, poems: [entry.poem], keywords: [] }, given, false);
  say(`诗稿 · ${describeEntry(entry)}`);
  poems.focus();
}

function pick(index) {
  state.selected = index;
  renderPoems();
  remember();
  say(`已选第 ${index + 1} 首，存入诗稿`);
}

const shownLines = (index) => state.converted[index] || state.result.poems[index].lines;

async function copyPoem(index) {
  try {
    await navigator.clipboard.writeText(poemText(shownLines(index), marksOf(state.result.poems[index]), tuneOf(state.result.form)));
    say("已复制");
  } catch {
    say("浏览器不允许复制，请手动选取");
  }
}

async function saveImage(index) {
  const poem = state.result.poems[index];
  const caption = `${state.result.form}${poem.rhyme_group ? ` · ${poem.rhyme_group}韵` : ""} · bert-poet`;
  const look = { vertical: $("#vertical").checked, caption, marks: marksOf(poem), stanzas: shapeOf(state.result.form).stanzas };
  const image = await poemImage(poem, shownLines(index), look);
  saveFile(`${poem.lines[0]}.png`, image);
  say("已存为图片");
}

/** Put a link that writes this poem again in the address bar and on the clipboard. */
async function shareLink(index) {
  const { job, result } = state;
  // A poem written in steps (an edited acrostic) or an old saved one is linked as its text, judged again.
  const request = job?.request && !job.heads.length ? job.request
    : { mode: "continue", form: result.form, text: withMarks(result.poems[index].lines, marksOf(result.poems[index])).join("") };
  const link = poemLink(request, job?.request === request ? index : 0);
  window.history.replaceState(null, "", link);
  try {
    await navigator.clipboard.writeText(link);
    say("链接已复制：打开它会写出同一首诗");
  } catch {
    say("链接已放在地址栏：打开它会写出同一首诗");
  }
}

/** Open a line for editing; submitting continues the poem from the edited line (an acrostic keeps its later heads). */
function editLine(card, line, index) {
  const poem = state.result.poems[Number(card.dataset.index)];
  openLineEditor(line, poem.lines[index], [...poem.lines[index]].length, (newLine) => {
    if (!contractRead()) return say("还未读到模型服务的选项，稍后再改写");  // a saved poem, shown before /api/info answered
    const job = editJob(poem, state.result.form, state.given, index, newLine, readOptions());
    if ([...job.request.text].length > maxText()) say(`续写的开头最多 ${maxText()} 字（含标点），这一句之后无法续写`);
    else run(job);
  });
}

/** Show every poem in traditional characters, keeping tones (OpenCC maps character for character). */
async function convertPoems() {
  const all = state.result.poems.map((poem) => poem.lines.join("\n")).join("\n\n");
  try {
    const { text: converted } = await requestJSON("/api/convert", { text: all, to: "traditional" });
    state.converted = converted.split("\n\n").map((block, i) => {
      const lines = block.split("\n");
      const same = lines.every((line, k) => [...line].length === [...(state.result.poems[i].lines[k] || "")].length);
      return same ? lines : undefined;
    });
  } catch (error) {
    $("#traditional").checked = false;
    say(`繁体转换失败：${error.zh}`);
    return;
  }
  renderPoems();
}

/** Fetch the 拼音 of every poem's lines (read in context on the server), then show it. */
async function readPinyin() {
  const { result } = state;
  try {
    const { pinyin } = await requestJSON("/api/pinyin", { lines: result.poems.flatMap((poem) => poem.lines) });
    let at = 0;
    state.pinyin = result.poems.map((poem) => pinyin.slice(at, (at += poem.lines.length)));
  } catch (error) {
    $("#show-pinyin").checked = false;
    say(`拼音获取失败：${error.zh}`);
    return;
  }
  if (state.result === result) renderPoems();
}

function toggleView(event) {
  if (!state.result) return;
  if (event.target.checked) (event.target.id === "traditional" ? convertPoems : readPinyin)();
  else {
    if (event.target.id === "traditional") state.converted = [];
    renderPoems();
  }
}

function submit(event) {
  event.preventDefault();
  refresh();
  if ($("#generate").disabled) return;
  const { mode, form, text: asked, given } = { mode: state.mode, ...state.check };
  const request = { mode, form: currentForm(), text: asked, ...readOptions() };
  run({ request, form, given: givenMap(given), heads: [], label: modeLabel(mode), text: asked });
}

function onKey(event) {
  const multiline = Boolean(textBox(state.mode).multiline);
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey || !multiline)) {
    event.preventDefault();
    $("#compose").requestSubmit();
  }
}

function regenerate() {
  if (!state.redo) return;
  const { seed, ...request } = state.redo.request;  // a fresh poem, not the same one again
  run({ ...state.redo, request });
}

function start() {
  text.addEventListener("input", refresh);
  text.addEventListener("keydown", onKey);
  $("#seed").addEventListener("input", refresh);
  $("#temperature").addEventListener("input", () => { $("#temperature-value").textContent = $("#temperature").value; });
  $("#compose").addEventListener("submit", submit);
  $("#stop").addEventListener("click", () => state.controller?.abort());
  $("#retry").addEventListener("click", retryNow);
  $("#regenerate").addEventListener("click", regenerate);
  $("#show-tones").addEventListener("change", (event) => poems.classList.toggle("hide-tones", !event.target.checked));
  $("#vertical").addEventListener("change", (event) => poems.classList.toggle("vertical", event.target.checked));
  $("#traditional").addEventListener("change", toggleView);
  $("#show-pinyin").addEventListener("change", toggleView);
  $("#clear-history").addEventListener("click", () => { clearHistory(); renderHistory($("#history"), $("#history-empty"), showSaved); say("诗稿已清空"); });
  $("#export-history").addEventListener("click", () => saveFile("bert-poet-诗稿.json", historyFile()));
  $("#glossary").append(glossaryNode());
  renderHistory($("#history"), $("#history-empty"), showSaved);
  refresh();
  loadInfo();
  checkHealth();
  setInterval(() => { if (!document.hidden && !state.controller) checkHealth(true); }, HEALTH_EVERY_MS);
  window.addEventListener("focus", () => checkHealth(true));
}

start();
