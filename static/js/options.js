// The composer's options: their ranges and defaults from the contract, read into a request, and set again
// from a shared link.

import { field } from "./contract.js";

export const SWITCHES = ["rhyme", "rhyme_first_line", "meter", "strict_meter", "no_repeat"];
// What a 词's tune decides itself: its rhymes' tones and places, and its tones (no 律诗 template).
const TUNE_DECIDES = ["rhyme_tone", "rhyme_first_line", "strict_meter"];
const $ = (selector) => document.querySelector(selector);

/** Each option's range and default as the contract gives them; the rhyme tones to choose from. */
export function setLimits() {
  const n = field("n");
  Object.assign($("#n"), { min: n.minimum, max: n.maximum, value: n.default });
  const temperature = field("temperature");
  const slider = $("#temperature");
  // An open minimum, as (0, 2]: the slider starts a step above it.
  const low = temperature.minimum + (temperature.above_minimum ? Number(slider.step) : 0);
  Object.assign(slider, { min: low, max: temperature.maximum, value: temperature.default });
  $("#temperature-value").textContent = slider.value;
  $("#seed").min = field("seed").minimum;
  const tone = field("rhyme_tone");
  $("#rhyme_tone").replaceChildren(...tone.choices.map((value) => new Option(`${value}韵`, value, false, value === tone.default)));
  for (const name of SWITCHES) $(`#${name}`).checked = field(name).default;
}

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
  // The page's own limit, below the contract's: a JavaScript number holds 15 digits exactly.
  return seed === "" || /^\d{1,15}$/u.test(seed) ? "" : "随机种子须为 15 位以内的非负整数";
}

/** The request's options as the controls set them (n clamped into its range in the box too). */
export function readOptions() {
  const range = field("n");
  const n = Math.min(Math.max(Number.parseInt($("#n").value, 10) || range.default, range.minimum), range.maximum);
  $("#n").value = String(n);
  const seed = $("#seed").value.trim();
  const tone = $("#rhyme_tone").value;
  return {
    n, temperature: Number($("#temperature").value), ...(seed === "" ? {} : { seed: Number(seed) }),
    ...Object.fromEntries(SWITCHES.filter((name) => !$(`#${name}`).disabled).map((name) => [name, $(`#${name}`).checked])),
    // The default tone is sent only when changed.
    ...(tone === field("rhyme_tone").default || $("#rhyme_tone").disabled ? {} : { rhyme_tone: tone }),
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
  if (field("rhyme_tone").choices.includes(asked.rhyme_tone)) $("#rhyme_tone").value = asked.rhyme_tone;
}
