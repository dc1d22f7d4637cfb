// What the page says about itself: the notice line, the error box with its retry, the model's status chip.

const $ = (selector) => document.querySelector(selector);
let retry = null;  // what the error box's 重试 does

/** Say something in the notice line under the toolbar. */
export function say(message) {
  $("#notice").textContent = message;
}

const downLabel = (error) => (error.status === 0 ? "网页服务无法连接" : "模型服务未连接");

export function setHealth(status, label) {
  $("#health").dataset.state = status;
  $("#health-text").textContent = label;
}

/** The status chip after a failed request: down, and why. */
export const setDown = (error) => setHealth("down", downLabel(error));

/** Show an API error in both languages; again() is what 重试 does. */
export function showError(error, again) {
  $("#error-text").textContent = error.en ? `${error.zh}（${error.en}）` : error.zh;
  $("#error").hidden = false;
  retry = again;
  if (error.status === 503 || error.status === 0) setDown(error);
}

/** Hide the error box, unless only the error whose retry is `only` should go. */
export function hideError(only = undefined) {
  if (only !== undefined && retry !== only) return;
  $("#error").hidden = true;
  retry = null;
}

/** 重试: hide the error and do again what failed. */
export function retryNow() {
  const again = retry;
  hideError();
  again?.();
}
