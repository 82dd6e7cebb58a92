// The playground: one code session edited, autosaved and run through livecode's public API,
// exactly as a frontend would use it. Nothing here is privileged: every request goes through
// the same routes, keys and quotas as any other client's.
"use strict";

const $ = (id) => document.getElementById(id);
const FINAL = new Set(["COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"]);
const AUTOSAVE_DELAY_MS = 400;
const KEY_ITEM = "livecode-playground-key";
const SESSION_ITEM = "livecode-playground-session";

class APIError extends Error {
  constructor(status, error) {
    super((error && error.message) || `HTTP ${status}`);
    this.status = status;
    this.error = error || {};
  }
}

const api = {
  key: localStorage.getItem(KEY_ITEM) || "",

  headers(extra = {}) {
    return this.key ? {...extra, Authorization: `Bearer ${this.key}`} : extra;
  },

  url(path) {  // relative to the page, so a reverse proxy may mount livecode under a prefix
    return new URL(path.replace(/^\//, ""), document.baseURI).toString();
  },

  async call(method, path, body) {
    const init = {method, headers: this.headers(body === undefined ? {} :
                                                {"Content-Type": "application/json"})};
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(this.url(path), init);
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      if (response.status === 401) showKeyPanel((data && data.error && data.error.message)
                                                || "this server needs an API key");
      throw new APIError(response.status, data && data.error);
    }
    return data;
  },
};

// ---- the API key --------------------------------------------------------------------------

function showKeyPanel(message) {
  $("key-panel").hidden = false;
  $("key-message").textContent = message || "";
}

$("key-toggle").addEventListener("click", () => {
  $("key-panel").hidden = !$("key-panel").hidden;
  $("key").value = api.key;
});

$("key-panel").addEventListener("submit", (event) => {
  event.preventDefault();
  api.key = $("key").value.trim();
  if (api.key) localStorage.setItem(KEY_ITEM, api.key);
  else localStorage.removeItem(KEY_ITEM);
  $("key-message").textContent = "";
  $("key-panel").hidden = true;
  start();
});

// ---- the session and its autosave ---------------------------------------------------------

const state = {
  session: null,      // the session as the server last answered it
  revision: null,     // the revision the next save follows
  dirty: false,       // the editor holds text the server does not have
  saving: null,       // the save in flight (a promise), if any
  timer: null,
  conflict: null,     // the revision another tab saved, while a save is refused
  editor: null,
  languages: [],
  limits: null,
  running: null,      // the execution being followed
};

function showSaveState(name, text) {
  const element = $("save-state");
  element.dataset.state = name;
  element.dataset.revision = state.revision ?? "";
  element.textContent = text;
  $("conflict-reload").hidden = $("conflict-keep").hidden = name !== "conflict";
}

function edited() {
  state.dirty = true;
  if (state.conflict === null) showSaveState("unsaved", "unsaved changes");
  clearTimeout(state.timer);
  state.timer = setTimeout(() => save(), AUTOSAVE_DELAY_MS);
}

// One save at a time; edits made while one is in flight are saved after it, with the revision
// it returned. A 409 means another tab (or client) saved first: nothing is overwritten until the
// user chooses.
async function save() {
  clearTimeout(state.timer);
  if (state.saving) return state.saving;
  if (!state.dirty || state.conflict !== null) return;
  const text = state.editor.getText();
  state.dirty = false;
  showSaveState("saving", "saving…");
  state.saving = (async () => {
    try {
      const session = await api.call("PATCH", `/code-sessions/${state.session.session_id}`,
                                     {source_code: text, revision: state.revision});
      state.session = session;
      state.revision = session.revision;
      showSaveState("saved", `saved · revision ${session.revision}`);
      if (state.dirty) state.timer = setTimeout(() => save(), AUTOSAVE_DELAY_MS);  // typed meanwhile
    } catch (error) {
      state.dirty = true;
      if (error.status === 409) {
        state.conflict = error.error.revision;
        showSaveState("conflict", `conflict: revision ${state.conflict} was saved elsewhere`);
      } else {
        showSaveState("error", `not saved: ${error.message}`);
      }
    } finally {
      state.saving = null;
    }
  })();
  return state.saving;
}

// Everything typed is on the server before a run starts (a run copies what is saved).
async function flush() {
  while (state.saving || (state.dirty && state.conflict === null)) {
    await (state.saving || save());
    if ($("save-state").dataset.state === "error") break;
  }
  return !state.dirty;
}

$("conflict-reload").addEventListener("click", async () => {
  const session = await api.call("GET", `/code-sessions/${state.session.session_id}`);
  state.conflict = null;
  state.dirty = false;
  useSession(session);
});

$("conflict-keep").addEventListener("click", () => {
  state.revision = state.conflict;  // save over it, knowingly
  state.conflict = null;
  state.dirty = true;
  save();
});

function useSession(session) {
  state.session = session;
  state.revision = session.revision;
  state.editor.setText(session.source_code);
  state.editor.setLanguage(session.language);
  $("language").value = session.language;
  $("session-line").textContent = `code session ${session.session_id}`;
  localStorage.setItem(SESSION_ITEM, session.session_id);
  if (location.hash !== `#${session.session_id}`) history.replaceState(null, "", `#${session.session_id}`);
  showSaveState("saved", `saved · revision ${session.revision}`);
}

async function openSession() {
  const wanted = location.hash.slice(1) || localStorage.getItem(SESSION_ITEM);
  if (wanted) {
    try {
      return await api.call("GET", `/code-sessions/${encodeURIComponent(wanted)}`);
    } catch (error) {
      if (error.status !== 404) throw error;  // gone (or another key's): start a new one
    }
  }
  return newSession();
}

function newSession() {
  const language = state.session ? state.session.language  // a new one like the last one
                 : state.languages.some((l) => l.name === "python") ? "python"
                 : state.languages[0].name;
  return api.call("POST", "/code-sessions", {language, source_code: 'print("Hello, livecode")\n'});
}

$("new-session").addEventListener("click", async () => {
  await flush();
  state.running = null;
  state.conflict = null;
  new Output();
  showStatus("", null);
  $("details").replaceChildren();
  $("times").textContent = "";
  useSession(await newSession());
  await loadRuns();
});

$("language").addEventListener("change", async () => {
  const language = $("language").value;
  state.editor.setLanguage(language);
  await flush();
  try {
    const session = await api.call("PATCH", `/code-sessions/${state.session.session_id}`,
                                   {language, revision: state.revision});
    state.session = session;
    state.revision = session.revision;
    showSaveState("saved", `saved · revision ${session.revision}`);
  } catch (error) {
    showSaveState(error.status === 409 ? "conflict" : "error", `language not saved: ${error.message}`);
    if (error.status === 409) state.conflict = error.error.revision;
  }
});

// ---- limits -------------------------------------------------------------------------------

const LIMIT_UNITS = {wall_time_limit: "s", cpu_time_limit: "s", memory_limit: "KiB",
                     output_limit: "bytes", max_file_size: "bytes", disk_limit: "bytes"};

function showLimits(limits) {
  const box = $("limits");
  box.replaceChildren();
  for (const [name, value] of Object.entries(limits.defaults)) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "number";
    input.min = "0";
    input.step = "any";
    input.max = limits.caps[name];
    input.placeholder = value;
    input.name = name;
    input.title = `default ${value}, at most ${limits.caps[name]}`;
    label.append(`${name.replace(/_/g, " ")}${LIMIT_UNITS[name] ? ` (${LIMIT_UNITS[name]})` : ""}`,
                 input);
    box.append(label);
  }
}

function chosenLimits() {
  const limits = {};
  for (const input of $("limits").querySelectorAll("input")) {
    if (input.value !== "") limits[input.name] = Number(input.value);
  }
  return limits;
}

// ---- running and following a run ----------------------------------------------------------

function note(text) {
  const span = document.createElement("span");
  span.className = "note";
  span.textContent = text;
  $("output").append(span);
}

// What one run has printed so far, per stream: chunks carry their byte offset, so a chunk seen
// twice (a resumed stream) is skipped and the final result can be checked against what came live.
class Output {
  constructor() {
    this.received = {stdout: 0, stderr: 0};
    this.text = {stdout: "", stderr: ""};
    this.encoder = new TextEncoder();
    $("output").replaceChildren();
  }

  add(stream, data, offset) {
    const size = this.encoder.encode(data).length;
    if (offset !== undefined && offset + size <= this.received[stream]) return;
    this.received[stream] = (offset ?? this.received[stream]) + size;
    this.text[stream] += data;
    this.append(stream, data);
  }

  append(kind, data) {
    const output = $("output");
    const last = output.lastChild;
    if (last && last.className === kind) last.textContent += data;
    else {
      const span = document.createElement("span");
      span.className = kind;
      span.textContent = data;
      output.append(span);
    }
    output.scrollTop = output.scrollHeight;
  }

  finish(execution) {  // the stored result wins over what arrived live, should they differ
    if (execution.stdout !== undefined && (execution.stdout !== this.text.stdout
                                           || execution.stderr !== this.text.stderr)) {
      $("output").replaceChildren();
      this.text = {stdout: "", stderr: ""};
      if (execution.stdout) this.append("stdout", execution.stdout);
      if (execution.stderr) this.append("stderr", execution.stderr);
    }
    if (execution.compile_output) this.append("stderr", execution.compile_output);
  }
}

function showStatus(status, execution) {
  $("status").dataset.status = status;
  $("status").textContent = status || "no run";
  if (execution) $("status").dataset.executionId = execution.execution_id;
  $("run").disabled = !FINAL.has(status) && status !== "";
  if (execution) showDetails(execution);
}

function seconds(from, to) {
  if (!from || !to) return null;
  return (new Date(to) - new Date(from)) / 1000;
}

function showDetails(execution) {
  const rows = [
    ["execution", execution.execution_id],
    ["language", execution.language],
    ["exit code", execution.exit_code],
    ["reason", execution.reason],
    ["run time", execution.execution_time_ms != null ? `${execution.execution_time_ms.toFixed(1)} ms` : null],
    ["cpu time", execution.cpu_time_ms != null ? `${execution.cpu_time_ms.toFixed(1)} ms` : null],
    ["max rss", execution.max_rss_kb != null ? `${execution.max_rss_kb} KiB` : null],
    ["created", execution.created_at],
    ["started", execution.started_at],
    ["finished", execution.finished_at],
    ["truncated", execution.truncated ? "yes" : null],
  ];
  const list = $("details");
  list.replaceChildren();
  for (const [name, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = String(value);
    dd.dataset.field = name.replace(/ /g, "_");
    list.append(dt, dd);
  }
  const wait = seconds(execution.created_at, execution.started_at);
  const total = seconds(execution.created_at, execution.finished_at);
  $("times").textContent = [wait !== null ? `waited ${wait.toFixed(2)} s` : null,
                            total !== null ? `done after ${total.toFixed(2)} s` : null]
                           .filter(Boolean).join(" · ");
}

// Server-Sent Events read through fetch rather than EventSource, which cannot send the
// Authorization header. Yields {event, data, id}.
async function* serverSentEvents(path, lastEventId, signal) {
  const headers = api.headers({Accept: "text/event-stream"});
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  const response = await fetch(api.url(path), {headers, signal});
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new APIError(response.status, data && data.error);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = {event: "message", data: [], id: null};
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
      if (line === "") {
        if (event.data.length) yield {...event, data: event.data.join("\n")};
        event = {event: "message", data: [], id: null};
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event.event = text;
        else if (field === "data") event.data.push(text);
        else if (field === "id") event.id = text;
      }
    }
  }
}

// Follow a run over its event stream, resuming after the last event seen if the connection
// drops; a server without the stream is polled instead.
async function followEvents(executionId, output) {
  let lastEventId = null;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      for await (const message of serverSentEvents(`/executions/${executionId}/events`, lastEventId)) {
        if (message.id) lastEventId = message.id;
        const data = JSON.parse(message.data);
        if (message.event === "state") showStatus(data.status);
        else if (message.event === "stdout" || message.event === "stderr") {
          output.add(message.event, data.data, data.offset);
        } else if (message.event === "result") return data;
      }
    } catch (error) {
      if (error.status === 404 && lastEventId === null) return poll(executionId);
      if (error.status && error.status !== 503) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return poll(executionId);
}

async function poll(executionId) {
  for (;;) {
    const execution = await api.call("GET", `/executions/${executionId}`);
    showStatus(execution.status, execution);
    if (FINAL.has(execution.status)) return execution;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

// An interactive run: its output arrives over the WebSocket and what the user types is sent to
// its stdin. Browsers cannot set headers on a WebSocket, so the key goes as ?access_token=.
function followSocket(executionId, output) {
  return new Promise((resolve, reject) => {
    const url = new URL(api.url(`/executions/${executionId}/io`));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (api.key) url.searchParams.set("access_token", api.key);
    const socket = new WebSocket(url);
    let result = null;
    const form = $("io");
    const send = (message) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const text = $("io-input").value + "\n";
      $("io-input").value = "";
      output.append("stdin", text);  // the program does not echo it: a terminal would
      send({stdin: text});
    };
    const onEof = () => { send({eof: true}); output.append("note", "[stdin closed]\n"); };
    const done = () => {
      form.hidden = true;
      form.removeEventListener("submit", onSubmit);
      $("io-eof").removeEventListener("click", onEof);
    };
    form.addEventListener("submit", onSubmit);
    $("io-eof").addEventListener("click", onEof);
    form.hidden = false;
    socket.onopen = () => $("io-input").focus();
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "state") showStatus(message.status);
      else if (message.type === "stdout" || message.type === "stderr") {
        output.add(message.type, message.data, message.offset);
      } else if (message.type === "result") result = message.execution;
    };
    socket.onclose = (event) => {
      done();
      if (result) resolve(result);
      else if (event.code === 1000) resolve(poll(executionId));
      else if (event.code === 3401) {  // refused: 3000 + the HTTP status, the reason its message
        showKeyPanel(event.reason);
        reject(new Error(`the input connection was refused: ${event.reason}`));
      } else reject(new Error(`the input connection closed (${event.code}${event.reason ? `: ${event.reason}` : ""})`));
    };
  });
}

async function follow(executionId, interactive) {
  state.running = executionId;
  const output = new Output();
  try {
    const execution = interactive ? await followSocket(executionId, output)
                                  : await followEvents(executionId, output);
    if (state.running !== executionId) return;
    output.finish(execution);
    showStatus(execution.status, execution);
  } catch (error) {
    note(`\n[${error.message}]\n`);
    showStatus("", null);
  } finally {
    if (state.running === executionId) state.running = null;
    loadRuns();
  }
}

async function run() {
  if ($("run").disabled) return;
  $("run").disabled = true;
  try {
    if (!(await flush())) {
      $("run").disabled = false;
      return;
    }
    const interactive = $("interactive").checked;
    const body = chosenLimits();
    if (interactive) body.interactive = true;
    else if ($("stdin").value) body.stdin = $("stdin").value;
    const queued = await api.call("POST", `/code-sessions/${state.session.session_id}/run`, body);
    showStatus(queued.status, {execution_id: queued.execution_id});
    loadRuns();
    await follow(queued.execution_id, interactive);
  } catch (error) {
    new Output();
    note(`[${error.message}]\n`);
    showStatus("", null);
  }
}

$("run").addEventListener("click", run);

// ---- the session's past runs --------------------------------------------------------------

async function loadRuns() {
  if (!state.session) return;
  const page = await api.call("GET", `/code-sessions/${state.session.session_id}/executions?limit=20`);
  const body = $("runs").querySelector("tbody");
  body.replaceChildren();
  for (const execution of page.executions) {
    const row = document.createElement("tr");
    row.dataset.executionId = execution.execution_id;
    const cells = [
      execution.created_at ? new Date(execution.created_at).toLocaleTimeString() : "",
      execution.status,
      execution.exit_code ?? "",
      execution.execution_time_ms != null ? `${execution.execution_time_ms.toFixed(0)} ms` : "",
      execution.execution_id.slice(0, 8),
    ];
    for (const value of cells) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    if (execution.execution_id === $("status").dataset.executionId) row.classList.add("chosen");
    row.addEventListener("click", () => showRun(execution.execution_id));
    body.append(row);
  }
}

async function showRun(executionId) {
  const execution = await api.call("GET", `/executions/${executionId}`);
  for (const row of $("runs").querySelectorAll("tbody tr")) {
    row.classList.toggle("chosen", row.dataset.executionId === executionId);
  }
  if (!FINAL.has(execution.status)) {
    showStatus(execution.status, execution);
    return follow(executionId, false);
  }
  state.running = null;
  const output = new Output();
  output.finish(execution);
  showStatus(execution.status, execution);
}

// ---- start --------------------------------------------------------------------------------

async function start() {
  try {
    state.languages = (await api.call("GET", "/languages")).languages;
    state.limits = await api.call("GET", "/limits");
  } catch (error) {
    showSaveState("error", error.status === 401 ? "paste an API key above" : error.message);
    return;
  }
  const select = $("language");
  select.replaceChildren(...state.languages.map((language) => {
    const option = document.createElement("option");
    option.value = language.name;
    option.textContent = `${language.display_name} (${language.version})`;
    return option;
  }));
  showLimits(state.limits);
  if (!state.editor) {
    state.editor = window.LivecodeEditor.create({parent: $("editor"), onChange: edited, onRun: run});
  }
  useSession(await openSession());
  await loadRuns();
  state.editor.focus();
}

window.addEventListener("beforeunload", (event) => {
  if (state.dirty || state.saving) { save(); event.preventDefault(); }
});

start();
