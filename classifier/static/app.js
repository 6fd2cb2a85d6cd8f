// The moderator's page: calls credscore's native API (/v1/score, /v1/label, /v1/summary,
// /v1/feedback). No library, no build step. Every piece of text from a user or a server is put
// into the page with textContent or as a text node, never parsed as HTML.
"use strict";

// What each "What you paste" choice calls. Both call /v1/score today; when the server has an
// endpoint for a page and its comment thread, point "page" at it here.
const MODES = {
  text: { endpoint: "/v1/score", body: (text) => ({ text, segments: true }) },
  page: { endpoint: "/v1/score", body: (text) => ({ text, segments: true }) },
};
const LABELS = ["reporting", "opinion", "disinformation"];
const DECISIONS = ["hold", "review", "accept"];
const SHORT = { reporting: "rep", opinion: "opi", disinformation: "dis" };
const BATCH_ROWS = 500; // rows per /v1/label request (the server takes up to 1,000)
const MAX_ROWS = 50000; // a bigger file is a job for `credscore label`

let operatingPoints = {};
let feedbackKept = false;
let queue = [];

const $ = (id) => document.getElementById(id);

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children); // strings become text nodes
  return node;
}

function status(message) {
  $("status").textContent = message;
}

function known(value, allowed, fallback) {
  return allowed.includes(value) ? value : fallback;
}

// --- the server ----------------------------------------------------------------------------

function apiKey() {
  return $("key").value || sessionStorage.getItem("credscore-key") || "";
}

async function call(path, body, contentType) {
  const headers = {};
  const key = apiKey();
  if (key) headers.Authorization = "Bearer " + key;
  const options = { method: body === undefined ? "GET" : "POST", headers };
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    options.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch (error) {
    data = null;
  }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return { data, text };
}

// Every record the server returns carries its decision, made by classifier/decisions.py: the
// page shows it and never decides by itself.
function decisionOf(record) {
  return known(record.decision, DECISIONS, "accept");
}

function scoresLine(scores) {
  return LABELS.map((label) => `${SHORT[label]} ${Number(scores[label]).toFixed(2)}`).join("  ");
}

async function loadModel() {
  try {
    const { data } = await call("/v1/model");
    operatingPoints = data.operating_points || {};
    feedbackKept = Boolean(data.feedback);
    const model = data.model;
    const points = ["hold", "review"]
      .filter((name) => operatingPoints[name] && operatingPoints[name].threshold !== null)
      .map((name) => `${name} at ${operatingPoints[name].label} ≥ ${operatingPoints[name].threshold}`);
    $("model-line").textContent =
      `Model ${String(model.sha256).slice(0, 12)}, trained on ${model.training_rows} rows` +
      (model.cv_macro_f1 ? `, grouped cross-validation macro-F1 ${model.cv_macro_f1}` : "") +
      ". " + (points.length ? `Operating points: ${points.join("; ")}.` :
        "No operating points: nothing is held or queued for review (start the server with --threshold hold=0.9).");
    $("key-section").hidden = !sessionStorage.getItem("credscore-key") && !$("key").value;
    renderQueue();
    return true;
  } catch (error) {
    if (error.status === 403) {
      $("key-section").hidden = false;
      $("model-line").textContent = "This server wants an API key: type it below.";
    } else {
      $("model-line").textContent = `Cannot reach the model: ${error.message}`;
    }
    return false;
  }
}

// --- a pasted text ---------------------------------------------------------------------------

function showDetails(segment, decision, index) {
  const box = $("segment-details");
  const list = el("ul", { class: "scores" });
  for (const label of LABELS) {
    const bar = el("span", { class: `bar label-${label}` });
    bar.style.width = `${Math.round(segment.scores[label] * 100)}%`;
    list.append(el("li", {}, el("span", { class: "name" }, label), el("span", { class: "track" }, bar),
      el("span", { class: "value" }, Number(segment.scores[label]).toFixed(3))));
  }
  const terms = (segment.terms || []).map((t) => `${t.term} (${Number(t.weight).toFixed(3)})`);
  box.replaceChildren(
    el("h4", {}, `Segment ${index + 1}: ${segment.label}, ${decision}`),
    list,
    el("p", {}, terms.length ? `Terms behind the label: ${terms.join(", ")}` :
      "No word or style term named (character n-grams count but are not listed)."),
  );
}

function renderDocument(doc, text) {
  const box = $("highlighted");
  box.replaceChildren();
  const points = Array.from(text); // offsets count code points, as Python does
  let at = 0;
  doc.segments.forEach((segment, index) => {
    if (segment.start > at) box.append(points.slice(at, segment.start).join(""));
    const label = known(segment.label, LABELS, "unknown");
    const decision = decisionOf(segment);
    const mark = el("mark", {
      class: `seg label-${label} decision-${decision}`,
      tabindex: "0",
      "data-label": label,
      "data-decision": decision,
      "data-index": String(index),
    });
    mark.textContent = points.slice(segment.start, segment.end).join("");
    mark.title = `${label}, ${decision}: ${scoresLine(segment.scores)}` +
      ((segment.terms || []).length ? `\nterms: ${segment.terms.map((t) => t.term).join(", ")}` : "");
    const show = () => showDetails(segment, decision, index);
    mark.addEventListener("mouseenter", show);
    mark.addEventListener("focus", show);
    box.append(mark, el("span", { class: "visually-hidden" }, ` [${label}, ${decision}] `));
    at = segment.end;
  });
  if (at < points.length) box.append(points.slice(at).join(""));
  const summary = doc.summary;
  // A text's decision is the strictest of its segments' (as the server makes it).
  const found = doc.segments.map(decisionOf);
  const decision = known(summary.decision, DECISIONS, null) || DECISIONS.find((d) => found.includes(d)) || "accept";
  $("document-line").textContent =
    `Whole text: ${summary.label} (${scoresLine(summary.scores)}), decision ${decision}; ` +
    `${summary.segments} segments.`;
  $("segment-details").replaceChildren();
  $("result").hidden = false;
  setQueue("pasted", doc.segments.map((segment, index) => ({
    text: segment.text, label: segment.label, scores: segment.scores, decision: decisionOf(segment),
    where: `pasted text, segment ${index + 1}`,
  })));
}

async function scorePasted(event) {
  event.preventDefault();
  const text = $("text").value;
  if (!text.trim()) {
    status("Paste a text first.");
    return;
  }
  const mode = MODES[document.querySelector("input[name=mode]:checked").value] || MODES.text;
  $("score-button").disabled = true;
  status("Scoring…");
  try {
    const { data } = await call(mode.endpoint, mode.body(text));
    renderDocument(data, text);
    status(`Scored ${data.segments.length} segments.`);
  } catch (error) {
    status(`Could not score the text: ${error.message}`);
  } finally {
    $("score-button").disabled = false;
  }
}

// --- the queue -------------------------------------------------------------------------------

function setQueue(origin, items) {
  queue = queue.filter((item) => item.origin !== origin);
  for (const item of items) {
    if (item.decision === "hold" || item.decision === "review") queue.push({ ...item, origin });
  }
  queue.sort((a, b) => b.scores.disinformation - a.scores.disinformation);
  renderQueue();
}

async function saveVerdict(item, label, row) {
  for (const button of row.querySelectorAll("button")) button.disabled = true;
  try {
    const { data } = await call("/v1/feedback", {
      text: item.text, label, source: item.source || null, decision: item.decision,
    });
    item.saved = label;
    item.trainable = data.trainable;
    status(`Saved: "${item.text.slice(0, 40)}…" as ${label}.`);
  } catch (error) {
    status(`Could not save the verdict: ${error.message}`);
  }
  renderQueue();
}

function renderQueue() {
  const list = $("queue");
  list.replaceChildren();
  $("queue-note").textContent = queue.length
    ? `${queue.length} held or review segments and rows, most disinformation-like first.` +
      (feedbackKept ? "" : " This server keeps no verdicts: start it with --feedback FILE to save them.")
    : "Nothing held or queued for review yet.";
  for (const item of queue) {
    const row = el("li", { class: `item item-${item.decision}`, "data-decision": item.decision });
    row.append(
      el("p", { class: "meta" },
        el("strong", {}, item.decision), ` · ${item.label} · disinformation ${Number(item.scores.disinformation).toFixed(3)}` +
        (item.source ? ` · ${item.source}` : "") + ` · ${item.where}`),
      el("blockquote", {}, item.text),
    );
    if (item.saved) {
      row.append(el("p", { class: "saved" }, `Saved as ${item.saved}` +
        (item.trainable ? " (a training row)." : " (kept aside: not a training row).")));
    } else {
      const actions = el("div", { class: "actions", role: "group", "aria-label": "Verdict" });
      const accept = el("button", { type: "button", class: "accept" }, `Accept: ${item.label}`);
      accept.addEventListener("click", () => saveVerdict(item, item.label, row));
      actions.append(accept);
      for (const label of LABELS.filter((l) => l !== item.label)) {
        const override = el("button", { type: "button", class: "override", "data-label": label }, `Override: ${label}`);
        override.addEventListener("click", () => saveVerdict(item, label, row));
        actions.append(override);
      }
      if (!feedbackKept) for (const button of actions.querySelectorAll("button")) button.disabled = true;
      row.append(actions);
    }
    list.append(row);
  }
}

// --- a file ----------------------------------------------------------------------------------

// RFC 4180: quoted fields may hold the delimiter, quotes ("") and line breaks.
function parseDelimited(text, delimiter) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a spreadsheet's byte-order mark is no text
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i += 1;
    } else if (c === '"' && field === "") {
      quoted = true;
      i += 1;
    } else if (c === delimiter) {
      row.push(field);
      field = "";
      i += 1;
    } else if (c === "\n" || c === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      field += c;
      i += 1;
    }
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

async function fileText(file) {
  if (!file.name.endsWith(".gz")) return file.text();
  if (!("DecompressionStream" in window)) throw new Error("this browser cannot read .gz files");
  return new Response(file.stream().pipeThrough(new DecompressionStream("gzip"))).text();
}

function batches(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function labelFile(file) {
  const textColumn = $("text-column").value.trim() || "text";
  const sourceColumn = $("source-column").value.trim() || "source";
  const name = file.name.replace(/\.gz$/, "");
  const format = name.endsWith(".jsonl") ? "jsonl" : name.endsWith(".tsv") ? "tsv" : name.endsWith(".csv") ? "csv" : "txt";
  let requests;
  let total;
  const text = await fileText(file);
  if (format === "jsonl") {
    const lines = text.split("\n").filter((line) => line.trim());
    total = lines.length;
    const query = new URLSearchParams({ text_column: textColumn, source_column: sourceColumn });
    requests = batches(lines, BATCH_ROWS).map((part) => () =>
      call(`/v1/label?${query}`, part.join("\n") + "\n", "application/x-ndjson").then(({ text: body }) =>
        body.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line))));
  } else {
    let items;
    if (format === "txt") {
      items = text.split(/\r?\n/);
      if (items.length && items[items.length - 1] === "") items.pop();
    } else {
      const rows = parseDelimited(text, format === "tsv" ? "\t" : ",");
      const header = rows.shift() || [];
      if (!header.includes(textColumn)) {
        throw new Error(`${file.name}: no column '${textColumn}' (columns: ${header.join(", ")}); set the text column`);
      }
      items = rows.filter((row) => !(row.length === 1 && row[0] === "")).map((row) => {
        const fields = {};
        header.forEach((column, j) => {
          if (j < row.length) fields[column] = row[j];
        });
        if (row.length > header.length) fields.extra_fields = row.slice(header.length);
        return fields;
      });
    }
    total = items.length;
    requests = batches(items, BATCH_ROWS).map((part) => () =>
      call("/v1/label", { texts: part, text_column: textColumn, source_column: sourceColumn })
        .then(({ data }) => data.records));
  }
  if (total > MAX_ROWS) throw new Error(`${file.name}: ${total} rows; this page takes up to ${MAX_ROWS}, use 'credscore label'`);
  const progress = $("progress");
  progress.hidden = false;
  progress.max = Math.max(total, 1);
  progress.value = 0;
  const records = [];
  for (const request of requests) {
    records.push(...(await request()));
    progress.value = records.length;
    status(`Labelled ${records.length} of ${total} rows…`);
  }
  const errors = records.filter((r) => r.error).length;
  status(`${file.name}: ${records.length} rows read, ${records.length - errors} labelled, ${errors} errors.`);
  const scored = records.map((r, n) => ({ record: r, row: n + 1 })).filter(({ record }) => !record.error);
  setQueue("file", scored.map(({ record: r, row }) => ({
    text: String(r[textColumn]), label: r.label, scores: r.scores, decision: decisionOf(r),
    source: r[sourceColumn] === undefined ? null : String(r[sourceColumn]), where: `${file.name}, row ${row}`,
  })));
  const { data } = await call("/v1/summary", {
    records: records.map((r) => ({
      source: r[sourceColumn] === undefined ? null : r[sourceColumn], label: r.label || null,
      scores: r.scores ? { disinformation: r.scores.disinformation } : null, error: r.error || null,
    })),
  });
  renderSummary(data.sources);
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`;
}

function renderSummary(sources) {
  const body = document.querySelector("#summary tbody");
  body.replaceChildren();
  const chart = $("chart");
  chart.replaceChildren();
  for (const source of sources) {
    const [low, high] = source.disinformation_share_95ci;
    body.append(el("tr", {},
      el("th", { scope: "row" }, source.source),
      el("td", {}, String(source.rows)), el("td", {}, String(source.errors)),
      el("td", {}, percent(source.share_reporting)), el("td", {}, percent(source.share_opinion)),
      el("td", {}, percent(source.share_disinformation)),
      el("td", {}, `${percent(low)}–${percent(high)}`),
      el("td", {}, source.mean_disinformation_score === null ? "–" : source.mean_disinformation_score.toFixed(3)),
    ));
    const fill = el("span", { class: "fill" });
    fill.style.width = `${(source.share_disinformation || 0) * 100}%`;
    const interval = el("span", { class: "interval" });
    interval.style.left = `${low * 100}%`;
    interval.style.width = `${(high - low) * 100}%`;
    chart.append(el("div", { class: "chart-row" },
      el("span", { class: "name" }, source.source),
      el("span", { class: "track" }, fill, interval),
      el("span", { class: "value" }, percent(source.share_disinformation))));
  }
  $("summary-section").hidden = false;
}

async function chooseFile(file) {
  if (!file) return;
  status(`Reading ${file.name}…`);
  try {
    await labelFile(file);
  } catch (error) {
    status(`Could not label ${file.name}: ${error.message}`);
  }
}

// --- start -----------------------------------------------------------------------------------

function start() {
  const params = new URLSearchParams(location.search);
  if (params.has("key")) {
    // Keep the key for this tab only, and out of the address bar and the history.
    sessionStorage.setItem("credscore-key", params.get("key"));
    history.replaceState(null, "", location.pathname);
  }
  $("key").value = sessionStorage.getItem("credscore-key") || "";
  $("key").addEventListener("change", () => {
    sessionStorage.setItem("credscore-key", $("key").value);
    loadModel();
  });
  $("paste-form").addEventListener("submit", scorePasted);
  $("file").addEventListener("change", () => chooseFile($("file").files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    chooseFile(event.dataTransfer.files[0]);
  });
  loadModel();
}

document.addEventListener("DOMContentLoaded", start);
