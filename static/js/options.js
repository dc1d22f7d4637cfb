// The composer's options: read into a request, and set again from a shared link.

export const SWITCHES = ["rhyme", "rhyme_first_line", "meter", "strict_meter", "no_repeat"];
// What a 词's tune decides itself: its rhymes' tones and places, and its tones (no 律诗 template).
const TUNE_DECIDES = ["rhyme_tone", "rhyme_first_line", "strict_meter"];
const $ = (selector) => document.querySelector(selector);

/** Grey out the options a tune decides itself while one is chosen; disabled ones are not sent. */
export function tuneDecides(tune) {
  for (const id of TUNE_DECIDES) {
    const control = $(`#${id}`);
    control.disabled = tune;
    control.closest("label")?.classList.toggle("decided", tune);
  }
}

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
    ...Object.fromEntries(SWITCHES.filter((name) => !$(`#${name}`).disabled).map((name) => [name, $(`#${name}`).checked])),
    ...(tone === "平" || $("#rhyme_tone").disabled ? {} : { rhyme_tone: tone }),  // 平 is the default: sent only when changed
  };
}

/** Set mode, form, text and options from what a link asks (share.js readLink); unknown values are ignored
 * (a form that is no 诗体 is left to the tune picker). */
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
