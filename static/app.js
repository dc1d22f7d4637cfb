// The studio page: input checked as you type, poems streamed in, then edited, converted, copied, kept.

import { requestJSON, streamPoems } from "./js/api.js";
import { clearHistory, rememberPoem, renderHistory } from "./js/history.js";
import { openLineEditor, renderFinal, renderStreaming } from "./js/poem.js";
import { FORMS, MAX_TEXT, validate } from "./js/validate.js";

const $ = (selector) => document.querySelector(selector);
const text = $("#text");
const poems = $("#poems");
const emptyState = poems.firstElementChild.cloneNode(true);
const MODES = {
  random: { label: "随机", name: "随机", placeholder: "随机模式无需输入" },
  continue: { label: "续写", name: "开头", placeholder: "白日依山尽，黄河入海流。" },
  acrostic: { label: "藏头", name: "藏头字", placeholder: "春夏秋冬" },
  theme: { label: "主题", name: "主题", placeholder: "秋夜怀人" },
};
const state = {
  mode: $("input[name=mode]:checked").value,
  drafts: {}, check: null, last: null, result: null, given: new Set(),
  selected: 0, historyId: "", controller: null, retry: null, converted: [],
};

const currentForm = () => $("input[name=form]:checked").value;
const withMarks = (lines) => lines.map((line, i) => line + (i % 2 ? "。" : "，"));

function say(message) {
  $("#notice").textContent = message;
}

function showError(error, retry) {
  $("#error-text").textContent = error.en ? `${error.zh}（${error.en}）` : error.zh;
  $("#error").hidden = false;
  state.retry = retry;
  if (error.status === 503) setHealth("down", "模型服务未连接");
}

function hideError() {
  $("#error").hidden = true;
  state.retry = null;
}

function setHealth(status, label) {
  $("#health").dataset.state = status;
  $("#health-text").textContent = label;
}

async function checkHealth() {
  try {
    await requestJSON("/api/health");
    setHealth("ok", "模型就绪");
    if (state.retry === checkHealth) hideError();
  } catch (error) {
    setHealth("down", "模型服务未连接");
    showError(error, checkHealth);
  }
}

function seedProblem() {
  const seed = $("#seed").value.trim();
  return seed === "" || /^\d{1,18}$/u.test(seed) ? "" : "随机种子须为非负整数";
}

/** Re-check the input (and seed) and say why the poem cannot be written yet, if it cannot. */
function refresh() {
  const mode = $("input[name=mode]:checked").value;
  $("#text-label").textContent = MODES[mode].name;
  text.placeholder = MODES[mode].placeholder;
  text.disabled = mode === "random";
  text.closest(".field").classList.toggle("idle", mode === "random");
  state.check = validate(mode, currentForm(), text.value);
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

function options() {
  const n = Math.min(Math.max(Number.parseInt($("#n").value, 10) || 1, 1), Number(document.body.dataset.maxCandidates));
  $("#n").value = String(n);
  const seed = $("#seed").value.trim();
  const switches = ["rhyme", "rhyme_first_line", "meter", "strict_meter", "no_repeat"];
  return {
    n, temperature: Number($("#temperature").value), ...(seed === "" ? {} : { seed: Number(seed) }),
    ...Object.fromEntries(switches.map((name) => [name, $(`#${name}`).checked])),
  };
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
  return card;
}

/** Ask for poems and show them character by character; form and given shape the grid and highlights. */
async function run(request, form, given) {
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  state.last = { request, form, given };
  hideError();
  say("");
  const cards = Array.from({ length: request.n }, (_, i) => newCard(i));
  cards.forEach((card) => { card.classList.add("streaming"); renderStreaming(card, "", form, given); });
  poems.dataset.count = String(cards.length);
  poems.replaceChildren(...cards);
  setBusy(true);
  try {
    const result = await streamPoems(request, ({ index, text: partial }) => {
      if (cards[index]) renderStreaming(cards[index], partial, form, given);
    }, controller.signal);
    setHealth("ok", "模型就绪");
    showResult(result, given, true);
  } catch (error) {
    if (state.controller !== controller) return;  // a newer request replaced this one
    poems.replaceChildren(emptyState.cloneNode(true));
    if (error.name === "AbortError") say("已停止");
    else showError(error, () => run(request, form, given));
  } finally {
    if (state.controller === controller) state.controller = null;
    setBusy(Boolean(state.controller));
  }
}

function renderPoems() {
  const { result } = state;
  [...poems.querySelectorAll(".poem")].forEach((card, i) => {
    renderFinal(card, result.poems[i], {
      form: result.form, given: state.given, glyphLines: state.converted[i], onEdit: editLine,
    });
    card.classList.toggle("selected", result.poems.length > 1 && i === state.selected);
    const pickButton = card.querySelector(".pick");
    pickButton.hidden = result.poems.length < 2;
    pickButton.textContent = i === state.selected ? "已选" : "选这首";
    pickButton.setAttribute("aria-pressed", String(i === state.selected));
  });
}

function showResult(result, given, fresh) {
  Object.assign(state, { result, given, selected: 0, converted: [] });
  poems.dataset.count = String(result.poems.length);
  poems.replaceChildren(...result.poems.map((_, i) => newCard(i)));
  renderPoems();
  if (fresh) {
    state.historyId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    remember();
    const keywords = result.keywords?.length ? ` · 关键词：${result.keywords.join("、")}` : "";
    say(`${result.form}${keywords} · 用时 ${(result.elapsed_ms / 1000).toFixed(1)} 秒`);
  }
  $("#regenerate").disabled = !state.last;
  if ($("#traditional").checked) convertPoems();
}

function remember() {
  const { result, selected } = state;
  rememberPoem({
    id: state.historyId, time: Date.now(), form: result.form, mode: result.mode,
    modeLabel: MODES[result.mode]?.label || result.mode, poem: result.poems[selected], given: [...state.given],
  });
  renderHistory($("#history"), $("#history-empty"), showSaved);
}

function showSaved(entry) {
  hideError();
  state.historyId = entry.id;
  showResult({ form: entry.form, mode: entry.mode, poems: [entry.poem], keywords: [] }, new Set(entry.given), false);
  say(`诗稿 · ${entry.form} · ${entry.modeLabel}`);
  poems.focus();
}

function pick(index) {
  state.selected = index;
  renderPoems();
  remember();
  say(`已选第 ${index + 1} 首，存入诗稿`);
}

async function copyPoem(index) {
  const lines = withMarks(state.converted[index] || state.result.poems[index].lines);
  const couplets = lines.reduce((out, line, i) => (i % 2 ? [...out.slice(0, -1), out.at(-1) + line] : [...out, line]), []);
  try {
    await navigator.clipboard.writeText(couplets.join("\n"));
    say("已复制");
  } catch {
    say("浏览器不允许复制，请手动选取");
  }
}

/** Open a line for editing; submitting continues the poem from the edited line. */
function editLine(card, line, index) {
  const poem = state.result.poems[Number(card.dataset.index)];
  openLineEditor(line, poem.lines[index], FORMS[state.result.form].width, (newLine) => {
    const opening = withMarks([...poem.lines.slice(0, index), newLine]).join("");
    if ([...opening].length > MAX_TEXT) {
      say(`续写的开头最多 ${MAX_TEXT} 字（含标点），这一句之后无法续写`);
      return;
    }
    const given = new Set([...state.given, ...[...newLine].map((_, j) => `${index},${j}`)]);
    run({ mode: "continue", form: state.result.form, text: opening, ...options() }, state.result.form, given);
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

function toggleTraditional() {
  if (!state.result) return;
  if ($("#traditional").checked) convertPoems();
  else {
    state.converted = [];
    renderPoems();
  }
}

function submit(event) {
  event.preventDefault();
  refresh();
  if ($("#generate").disabled) return;
  const given = new Set(state.check.given.map(([line, column]) => `${line},${column}`));
  const request = { mode: state.mode, form: currentForm(), text: state.check.text, ...options() };
  run(request, state.check.form, given);
}

function onKey(event) {
  const multiline = state.mode === "continue";
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey || !multiline)) {
    event.preventDefault();
    $("#compose").requestSubmit();
  }
}

function regenerate() {
  if (!state.last) return;
  const { seed, ...request } = state.last.request;  // a fresh poem, not the same one again
  run(request, state.last.form, state.last.given);
}

function start() {
  state.drafts[state.mode] = text.value;
  document.querySelectorAll("input[name=mode]").forEach((input) => input.addEventListener("change", switchMode));
  document.querySelectorAll("input[name=form]").forEach((input) => input.addEventListener("change", refresh));
  text.addEventListener("input", refresh);
  text.addEventListener("keydown", onKey);
  $("#seed").addEventListener("input", refresh);
  $("#temperature").addEventListener("input", () => { $("#temperature-value").textContent = $("#temperature").value; });
  $("#compose").addEventListener("submit", submit);
  $("#stop").addEventListener("click", () => state.controller?.abort());
  $("#retry").addEventListener("click", () => { const retry = state.retry; hideError(); retry?.(); });
  $("#regenerate").addEventListener("click", regenerate);
  $("#show-tones").addEventListener("change", (event) => poems.classList.toggle("hide-tones", !event.target.checked));
  $("#vertical").addEventListener("change", (event) => poems.classList.toggle("vertical", event.target.checked));
  $("#traditional").addEventListener("change", toggleTraditional);
  $("#clear-history").addEventListener("click", () => { clearHistory(); renderHistory($("#history"), $("#history-empty"), showSaved); say("诗稿已清空"); });
  renderHistory($("#history"), $("#history-empty"), showSaved);
  refresh();
  checkHealth();
}

start();
