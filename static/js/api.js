// Talks to the web app's JSON API; poems arrive as Server-Sent Events over a streaming fetch.

/** An API failure carrying the server's bilingual message. */
export class ApiError extends Error {
  constructor(error, status) {
    super(error.zh || error.message || "请求失败");
    this.zh = error.zh || this.message;
    this.en = error.en || "";
    this.status = status;
  }
}

const NETWORK = { zh: "无法连接网页服务，请检查网络后重试", en: "the web app cannot be reached" };
const CUT = { zh: "连接中断，诗未写完", en: "the stream ended before the poem was finished" };

async function send(url, options) {
  try {
    return await fetch(url, options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(NETWORK, 0);
  }
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return new ApiError(body.error || {}, response.status);
  } catch {
    return new ApiError({ zh: `服务器返回 ${response.status}` }, response.status);
  }
}

/** GET or POST JSON; resolves to the parsed body or throws ApiError. */
export async function requestJSON(url, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await send(url, options);
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

/** Parse one SSE block ("event: x\ndata: {...}") into [event, data]. */
function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  return [event, data.length ? JSON.parse(data.join("\n")) : null];
}

/** Stream poems: calls onProgress({index, text}) as characters come; resolves to the final result. */
export async function streamPoems(request, onProgress, signal) {
  const response = await send("/api/stream", {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(request), signal,
  });
  if (!response.ok) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new ApiError(CUT, 0);
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const [event, data] = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event === "progress") onProgress(data);
      else if (event === "done") return data;
      else if (event === "error") throw new ApiError(data.error || {}, 200);
    }
  }
}
