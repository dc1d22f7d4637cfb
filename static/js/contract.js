// The request contract as the model server exports it (GET /api/info): each field's type, range and default,
// the modes with their Chinese names, the forms with their shapes, the form the engine writes where none is
// named, and the longest text. The composer's choices and limits are built from it, so the page keeps no
// list, shape or limit of its own.

import { element } from "./dom.js";

const $ = (selector) => document.querySelector(selector);
const fields = new Map();  // name -> {type, default, minimum, maximum, above_minimum, choices, labels, nullable}
let contract = null;  // {forms, shapes, autoForms, maxText} once /api/info has been read

/** A field of the request as /api/info describes it. */
export const field = (name) => fields.get(name);

/** Whether /api/info has been read: until then the page cannot build a request. */
export const contractRead = () => contract !== null;

/** The most characters of text a request may carry. */
export const maxText = () => contract.maxText;

/** Whether name is a 诗 form the model server writes (else perhaps a 词 tune). */
export const isPoemForm = (name) => contract.forms.includes(name);

/** A 诗 form's shape, as a tune's is given: {name, line_lengths, stanzas, marks, …}; undefined for a 词 tune,
 * or until /api/info has been read. */
export const formShape = (name) => contract?.shapes.get(name);

/** The engine's choice where no form is named, for a mode (and a continuation's line length, else any):
 * [{width, lines, form}] by the count it hangs on (an acrostic's heads, an opening's whole lines), fewest first. */
export const autoForms = (mode, width = undefined) => (contract?.autoForms || [])
  .filter((row) => row.mode === mode && (width === undefined || row.width === width)).sort((a, b) => a.lines - b.lines);

/** A mode's Chinese name: 藏头 for acrostic. */
export function modeLabel(mode) {
  const { choices, labels } = fields.get("mode");
  return labels[choices.indexOf(mode)] || mode;
}

function radio(name, value, label) {
  const input = element("input");
  Object.assign(input, { type: "radio", name, value, id: `${name}-${value}` });
  const tag = element("label", "", label);
  tag.htmlFor = input.id;
  return [input, tag];
}

/** Check the radio button of `name` whose value is the field's default. */
function checkDefault(name) {
  const input = [...document.querySelectorAll(`input[name=${name}]`)].find((choice) => choice.value === fields.get(name).default);
  if (input) input.checked = true;
}

/** Keep the contract /api/info gave, and add a button for each mode and each form (after 自动). */
export function setContract(info) {
  for (const described of info.fields) fields.set(described.name, described);
  const shapes = new Map(info.form_shapes.map((shape) => [shape.name, shape]));
  contract = { forms: info.forms, shapes, autoForms: info.auto_forms, maxText: info.max_text };
  const mode = fields.get("mode");
  $("#modes").append(...mode.choices.flatMap((value) => radio("mode", value, modeLabel(value))));
  $("#forms").append(...info.forms.flatMap((form) => radio("form", form, form)));
  checkDefault("mode");
  checkDefault("form");
  $("#text").maxLength = info.max_text;
}
