// The composer's options: read into a request, and set again from a shared link.

export const SWITCHES = ["rhyme", "rhyme_first_line", "meter", "strict_meter", "no_repeat"];
const $ = (selector) => document.querySelector(selector);

/** Why the seed box cannot be used, or "". */
export function seedProblem() {
  const seed = $("#seed").value.trim();
  return seed === "" || /^\d{1,15}$/u.test(seed) ? "" : "随机种子须为 15 位以内的非负整数";
}

/** The request's options as the controls set them (n clamped into range in the box too). */
export function readOptions() {
  const n = Math.min(Math.max(Number.parseInt($("#n").value, 10) || 1, 1), Number(document.body.dataset.maxCandidates));
  $("#n").value = String(n);
  const seed = $("#seed").value.trim();
  const tone = $("#rhyme_tone").value;
  return {
    n, temperature: Number($("#temperature").value), ...(seed === "" ? {} : { seed: Number(seed) }),
    ...Object.fromEntries(SWITCHES.map((name) => [name, $(`#${name}`).checked])),
    ...(tone === "平" ? {} : { rhyme_tone: tone }),  // 平 is the default: sent only when changed
  };
}

/** Set mode, form, text and options from what a link asks (share.js readLink); unknown values are ignored. */
export function setOptions(asked, maxText) {
  for (const name of ["mode", "form"]) {
    const input = [...document.querySelectorAll(`input[name=${name}]`)].find((choice) => choice.value === asked[name]);
    if (input) input.checked = true;
  }
  if (asked.text !== undefined) $("#text").value = asked.text.slice(0, maxText);
  for (const name of ["seed", "n", "temperature"]) if (name in asked) $(`#${name}`).value = String(asked[name]);
  $("#temperature-value").textContent = $("#temperature").value;
  for (const name of SWITCHES) if (name in asked) $(`#${name}`).checked = asked[name];
  if (asked.rhyme_tone === "仄") $("#rhyme_tone").value = "仄";
}
