// The explorer page: loads the model, draws the series, the unit's timelines and diagram, and
// sends what-if edits to the server, which re-runs the real engine. No math happens here.

import { drawComparison, drawSeries, drawTimeline } from "./charts.js";
import { drawUnit } from "./diagram.js";
import { clear, fmt, html, signed } from "./svg.js";

const $ = (id) => document.getElementById(id);

const GATE_LABELS = {
  forget_gate: "forget gate",
  input_gate: "input gate (% to remember)",
  candidate_memory: "potential memory (tanh)",
  output_gate: "output gate",
};

const state = {
  model: null,
  seriesId: null,
  layer: 0,
  unit: 0,
  step: 0,
  series: null,
  timeline: null,
  view: null,
  edits: [],
  whatif: null,
  request: 0,
  playing: null,
};

// ---------------------------------------------------------------- server calls
async function api(path, options = {}) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = { detail: `${response.status} ${response.statusText}` };
  }
  if (!response.ok) throw new Error(body && body.detail ? body.detail : `request failed (${response.status})`);
  return body;
}

function say(text, kind = "info") {
  const box = $("message");
  if (!text) {
    box.hidden = true;
    return;
  }
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = false;
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------- loading
async function loadModel() {
  state.model = await api("/api/model");
  const m = state.model.model;
  const source = state.model.source ? ` · ${state.model.source}` : "";
  const members = m.ensemble_size > 1 ? ` · ensemble of ${m.ensemble_size}, showing member 1` : "";
  $("model-summary").textContent = `${m.num_layers} layer${m.num_layers > 1 ? "s" : ""} × ${m.hidden_size} units · window ${m.window} steps · horizon ${m.horizon}${members}${source}`;
  fillSelect($("series-select"), state.model.series_ids.map((id) => [id, id]));
  fillSelect($("layer-select"), [...Array(m.num_layers).keys()].map((l) => [l, `${l}${l === m.num_layers - 1 ? " (top)" : ""}`]));
  state.seriesId = state.model.series_ids[0];
  state.layer = m.num_layers - 1;
  $("layer-select").value = String(state.layer);
  fillUnits();
  state.step = m.window - 1;
  const slider = $("step-slider");
  slider.max = String(m.window - 1);
  slider.value = String(state.step);
  state.edits = [];
  await loadSeries();
}

function fillSelect(select, options) {
  clear(select);
  for (const [value, text] of options) select.append(html("option", { value: String(value), text: String(text) }));
}

function fillUnits() {
  const hidden = state.model.model.hidden_size;
  fillSelect($("unit-select"), [...Array(hidden).keys()].map((u) => [u, u]));
  state.unit = Math.min(state.unit, hidden - 1);
  $("unit-select").value = String(state.unit);
}

async function loadSeries() {
  state.series = await api(`/api/series/${enc(state.seriesId)}`);
  fillInputEditor();
  await refresh();
}

// Fetch what the current (series, layer, unit, step, edits) shows, then draw it.
async function refresh({ stepOnly = false } = {}) {
  const ticket = ++state.request;
  const q = `layer=${state.layer}&unit=${state.unit}`;
  try {
    if (state.edits.length) {
      const body = { series_id: state.seriesId, layer: state.layer, unit: state.unit, step: state.step, edits: state.edits.map(({ label, ...edit }) => edit) };
      const result = await api("/api/whatif", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (ticket !== state.request) return;
      state.whatif = result;
      state.timeline = result.trace;
      state.view = result.step;
    } else {
      const [timeline, view] = await Promise.all([
        stepOnly && state.timeline ? Promise.resolve(state.timeline) : api(`/api/trace/${enc(state.seriesId)}?${q}`),
        api(`/api/step/${enc(state.seriesId)}?step=${state.step}&${q}`),
      ]);
      if (ticket !== state.request) return;
      state.whatif = null;
      state.timeline = timeline;
      state.view = view;
    }
    say("");
    draw();
  } catch (error) {
    if (ticket === state.request) say(error.message, "error");
  }
}

// ---------------------------------------------------------------- drawing
function draw() {
  const whatif = state.whatif ? state.whatif.forecast.mean : null;
  drawSeries($("series-chart"), $("series-legend"), state.series, { step: state.step, whatif });
  drawTimeline($("timeline-chart"), $("timeline-legend"), state.timeline, state.step, (t) => setStep(t));
  drawUnit($("unit-diagram"), state.view);
  $("unit-diagram").dataset.step = String(state.view.step);
  $("unit-diagram").dataset.layer = String(state.view.layer);
  $("unit-diagram").dataset.unit = String(state.view.unit);
  $("unit-diagram").dataset.edits = String(state.edits.length);
  $("step-label").textContent = `step ${state.step + 1} of ${state.timeline.labels.length} · ${state.view.label}`;
  $("step-label").dataset.step = String(state.step);
  $("unit-title").textContent = `Inside unit ${state.unit} of layer ${state.layer} at step ${state.step + 1} (${state.view.label})`;
  $("whatif-badge").hidden = !state.edits.length;
  drawNarration();
  drawForecastTable();
  drawComparison($("whatif-chart"), $("whatif-legend"), state.series, state.series.forecast.mean, whatif);
  $("whatif-note").hidden = !(state.whatif && !state.whatif.complete);
  fillWeightEditor();
  syncInputValue();
}

function drawNarration() {
  const n = state.view.narration;
  const list = clear($("meanings"));
  const items = [
    ["forget_gate", n.gates.forget_gate],
    ["input_gate", n.gates.input_gate],
    ["candidate_memory", n.gates.candidate_memory],
    ["long_term_memory", `Long-term memory: ${n.long_term}`],
    ["output_gate", n.gates.output_gate],
    ["short_term_memory", `Short-term memory: ${n.short_term}`],
  ];
  if (n.dense) items.push(["dense", `Dense layer: ${n.dense}`]);
  for (const [key, text] of items) {
    const label = GATE_LABELS[key] ? `${GATE_LABELS[key][0].toUpperCase()}${GATE_LABELS[key].slice(1)}: ` : "";
    list.append(html("li", { class: `meaning ${key}`, "data-key": key }, [html("span", { class: "dot" }), `${label}${text}`]));
  }
  $("narration-text").textContent = n.text;
}

function drawForecastTable() {
  const body = clear(document.querySelector("#forecast-table tbody"));
  const f = state.series.forecast;
  const wi = state.whatif ? state.whatif.forecast.mean : null;
  const unedited = state.whatif ? state.whatif.baseline.mean : null;
  f.ds.forEach((ds, k) => {
    const base = f.mean[k];
    const cells = [
      html("td", { text: ds }),
      html("td", { class: "num", "data-field": `forecast.${k}`, "data-value": String(base), text: fmt(base, 2) }),
      html("td", { class: "num wi", "data-field": `whatif.${k}`, "data-value": wi && k < wi.length ? String(wi[k]) : "", text: wi && k < wi.length ? fmt(wi[k], 2) : "–" }),
      html("td", { class: "num change", text: wi && k < wi.length ? signed(wi[k] - unedited[k], 2) : "–" }),
    ];
    body.append(html("tr", {}, cells));
  });
}

// ---------------------------------------------------------------- what-if editors
function fillInputEditor() {
  const labels = state.series.window.step_labels;
  fillSelect($("edit-input-step"), labels.map((label, t) => [t, `${t + 1}: ${label}`]));
  fillSelect($("edit-input-feature"), state.model.feature_names.map((name, j) => [j, name]));
  $("edit-input-step").value = String(state.step);
}

function inputValue(step, feature) {
  const edit = state.edits.find((e) => e.kind === "input" && e.step === step && e.feature === feature);
  return edit ? edit.value : state.series.window.inputs[step][feature];
}

function syncInputValue() {
  const step = Number($("edit-input-step").value);
  const feature = Number($("edit-input-feature").value);
  $("edit-input-value").value = String(+inputValue(step, feature).toPrecision(6));
}

function weightChoices() {
  const key = $("edit-weight-gate").value;
  const names = state.view.parameter_names;
  if (key === "dense") {
    return [
      { label: `h(T) of unit ${state.unit} → output 1`, name: "head.weight", row: 0, col: state.unit, value: state.view.dense.weight[0] },
      { label: "bias of output 1", name: "head.bias", row: 0, col: null, value: state.view.dense.bias[0] },
    ];
  }
  const gate = state.view.gates[key];
  const choices = gate.input_terms.map((t) => ({ label: `input: ${t.name}`, name: names.weight_ih, row: gate.row, col: t.index, value: t.weight }));
  for (const t of gate.memory_terms) choices.push({ label: `short-term memory ${t.name}`, name: names.weight_hh, row: gate.row, col: t.index, value: t.weight });
  choices.push({ label: "bias (b_ih)", name: names.bias_ih, row: gate.row, col: null, value: gate.bias_terms.bias_ih });
  return choices;
}

function fillWeightEditor() {
  const gateSelect = $("edit-weight-gate");
  const previous = gateSelect.value || "forget_gate";
  const options = Object.entries(GATE_LABELS);
  if (state.view.dense.weight.length) options.push(["dense", "Dense layer"]);
  fillSelect(gateSelect, options);
  gateSelect.value = options.some(([k]) => k === previous) ? previous : "forget_gate";
  const sourceSelect = $("edit-weight-source");
  const previousSource = sourceSelect.value;
  const choices = weightChoices();
  fillSelect(sourceSelect, choices.map((c, k) => [k, c.label]));
  if (previousSource && Number(previousSource) < choices.length) sourceSelect.value = previousSource;
  syncWeightValue();
}

function syncWeightValue() {
  const choice = weightChoices()[Number($("edit-weight-source").value) || 0];
  if (choice) $("edit-weight-value").value = String(+choice.value.toPrecision(6));
}

function addEdit(edit) {
  const same = (e) => e.kind === edit.kind && (edit.kind === "input"
    ? e.step === edit.step && e.feature === edit.feature
    : e.name === edit.name && e.row === edit.row && e.col === edit.col);
  state.edits = state.edits.filter((e) => !same(e)).concat([edit]);
  drawEdits();
  refresh();
}

function drawEdits() {
  const list = clear($("edit-list"));
  if (!state.edits.length) list.append(html("li", { class: "empty", text: "None: the fitted model." }));
  state.edits.forEach((edit, k) => {
    const remove = html("button", { type: "button", class: "remove", title: "Remove this edit", text: "×" });
    remove.addEventListener("click", () => {
      state.edits.splice(k, 1);
      drawEdits();
      refresh();
    });
    list.append(html("li", {}, [html("span", { text: edit.label }), remove]));
  });
  $("reset-edits").disabled = !state.edits.length;
}

function parseValue(input) {
  const value = Number(input.value);
  if (input.value.trim() === "" || !Number.isFinite(value)) {
    say(`"${input.value}" is not a number; type a finite number such as 0.5.`, "error");
    return null;
  }
  return value;
}

// ---------------------------------------------------------------- events
function setStep(step) {
  const max = state.model.model.window - 1;
  state.step = Math.max(0, Math.min(max, step));
  $("step-slider").value = String(state.step);
  $("edit-input-step").value = String(state.step);
  refresh({ stepOnly: true });
}

function wire() {
  $("series-select").addEventListener("change", (e) => {
    state.seriesId = e.target.value;
    state.edits = state.edits.filter((edit) => edit.kind === "weight");
    drawEdits();
    loadSeries();
  });
  $("layer-select").addEventListener("change", (e) => {
    state.layer = Number(e.target.value);
    refresh();
  });
  $("unit-select").addEventListener("change", (e) => {
    state.unit = Number(e.target.value);
    refresh();
  });
  $("step-slider").addEventListener("input", (e) => setStep(Number(e.target.value)));
  $("first-step").addEventListener("click", () => setStep(0));
  $("prev-step").addEventListener("click", () => setStep(state.step - 1));
  $("next-step").addEventListener("click", () => setStep(state.step + 1));
  $("last-step").addEventListener("click", () => setStep(state.model.model.window - 1));
  $("play").addEventListener("click", togglePlay);
  $("edit-input-step").addEventListener("change", syncInputValue);
  $("edit-input-feature").addEventListener("change", syncInputValue);
  $("edit-weight-gate").addEventListener("change", () => {
    $("edit-weight-source").value = "";
    fillWeightEditor();
  });
  $("edit-weight-source").addEventListener("change", syncWeightValue);
  $("input-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = parseValue($("edit-input-value"));
    if (value === null) return;
    const step = Number($("edit-input-step").value);
    const feature = Number($("edit-input-feature").value);
    const label = `x at ${state.series.window.step_labels[step]}, ${state.model.feature_names[feature]} = ${fmt(value, 3)}`;
    addEdit({ kind: "input", step, feature, value, label });
  });
  $("weight-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = parseValue($("edit-weight-value"));
    if (value === null) return;
    const choice = weightChoices()[Number($("edit-weight-source").value) || 0];
    const where = choice.col === null ? `${choice.name}[${choice.row}]` : `${choice.name}[${choice.row}, ${choice.col}]`;
    addEdit({ kind: "weight", name: choice.name, row: choice.row, col: choice.col, value, label: `${where} (${choice.label}) = ${fmt(value, 3)}` });
  });
  $("reset-edits").addEventListener("click", () => {
    state.edits = [];
    drawEdits();
    refresh();
  });
  $("upload-input").addEventListener("change", upload);
  document.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === "ArrowLeft") setStep(state.step - 1);
    if (e.key === "ArrowRight") setStep(state.step + 1);
  });
}

function togglePlay() {
  if (state.playing) {
    clearInterval(state.playing);
    state.playing = null;
    $("play").textContent = "Play";
    return;
  }
  if (state.step >= state.model.model.window - 1) setStep(0);
  $("play").textContent = "Pause";
  state.playing = setInterval(() => {
    if (state.step >= state.model.model.window - 1) {
      togglePlay();
      return;
    }
    setStep(state.step + 1);
  }, 800);
}

async function upload(event) {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  const limit = state.model.upload_limit_bytes;
  if (file.size > limit) {
    say(`${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; the explorer accepts files up to ${(limit / 1048576).toFixed(1)} MiB.`, "error");
    return;
  }
  say(`Fitting a quick model on ${file.name}…`, "busy");
  try {
    await api("/api/upload", { method: "POST", headers: { "Content-Type": "text/csv", "X-Filename": file.name }, body: file });
    await loadModel();
    say(`Now exploring a quick model fitted on ${file.name}.`, "info");
  } catch (error) {
    say(error.message, "error");
  }
}

wire();
loadModel().catch((error) => say(error.message, "error"));
