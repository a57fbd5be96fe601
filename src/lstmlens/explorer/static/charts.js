// The series chart (history, fitted values, forecast with intervals, the input window) and the
// timelines of one unit's gates and memories over the window. Drawing only.

import { clear, extent, html, path, scale, svg, ticks, fmt } from "./svg.js";

export const COLORS = {
  history: "#25324d",
  fitted: "#7d8fb3",
  forecast: "#e0702a",
  whatif: "#8a3ffc",
  window: "#fff4d6",
  cursor: "#c0392b",
  input_gate: "#e8872b",
  forget_gate: "#3b7dd8",
  candidate_memory: "#c9a000",
  output_gate: "#2f9e63",
  long_term_memory: "#6b4fbb",
  short_term_memory: "#178a99",
};

export const GATE_NAMES = {
  forget_gate: "forget gate f",
  input_gate: "input gate i (% to remember)",
  candidate_memory: "potential memory g (tanh)",
  output_gate: "output gate o",
  long_term_memory: "long-term memory c",
  short_term_memory: "short-term memory h",
};

const W = 1000;

function legend(node, items) {
  clear(node);
  for (const item of items) {
    const swatch = html("span", { class: `swatch ${item.kind || "line"}`, "data-color": item.color });
    swatch.style.setProperty("--swatch", item.color);
    node.append(html("span", { class: "legend-item" }, [swatch, item.label]));
  }
}

// "1960-01-01" -> "1960-01", "2023-05-24 – 2023-05-30" -> "2023-05-24", "2016-07-01 05:00" ->
// "07-01 05:00"; anything else as it is, cut to 14 characters.
export function shortLabel(text) {
  const first = String(text).split(" – ")[0];
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}:\d{2}))?/.exec(first);
  if (!m) return first.length > 14 ? `${first.slice(0, 13)}…` : first;
  if (m[4] && m[4] !== "00:00") return `${m[2]}-${m[3]} ${m[4]}`;
  return m[3] === "01" ? `${m[1]}-${m[2]}` : `${m[1]}-${m[2]}-${m[3]}`;
}

// x positions: history points 0..N-1, then the forecast continues at N, N+1, ...
export function drawSeries(node, legendNode, series, view) {
  clear(node);
  const H = 280;
  const margin = { left: 58, right: 18, top: 14, bottom: 30 };
  const historyDs = series.history.ds;
  const position = new Map(historyDs.map((ds, i) => [ds, i]));
  const n = historyDs.length;
  const horizon = series.forecast.ds.length;
  const windowPos = series.window.ds.map((ds) => position.get(ds)).filter((p) => p !== undefined);
  const shown = Math.min(n, Math.max(96, 3 * (series.window.ds.length + horizon)));
  const first = n - shown;
  const x = scale(first, n + horizon - 1, margin.left, W - margin.right);

  const values = [...series.history.y.slice(first), ...series.forecast.mean];
  for (const band of series.forecast.intervals) values.push(...band.lo, ...band.hi);
  if (view.whatif) values.push(...view.whatif);
  const [lo, hi] = extent(values);
  const y = scale(lo, hi, H - margin.bottom, margin.top);

  const grid = svg("g", { class: "grid" });
  for (const t of ticks(lo, hi, 5)) {
    grid.append(svg("line", { x1: margin.left, x2: W - margin.right, y1: y(t), y2: y(t) }));
    grid.append(svg("text", { x: margin.left - 8, y: y(t) + 4, class: "tick", "text-anchor": "end" }, fmt(t, Math.abs(hi - lo) < 10 ? 2 : 0)));
  }
  const every = Math.max(1, Math.ceil((shown + horizon) / 9));
  const allDs = [...historyDs, ...series.forecast.ds];
  for (let p = first; p < n + horizon; p += every) {
    grid.append(svg("text", { x: x(p), y: H - 10, class: "tick", "text-anchor": "middle" }, shortLabel(allDs[p])));
  }
  node.append(grid);

  // The input window, and the current step inside it.
  if (windowPos.length) {
    const per = windowPos.length / Math.max(1, series.window.step_labels.length);
    const a = x(windowPos[0] - 0.5);
    const b = x(windowPos[windowPos.length - 1] + 0.5);
    node.append(svg("rect", { x: a, y: margin.top, width: b - a, height: H - margin.top - margin.bottom, class: "window-band" }));
    node.append(svg("text", { x: a + 4, y: margin.top + 12, class: "band-label" }, "input window"));
    const from = windowPos[0] + Math.floor(view.step * per);
    const to = windowPos[0] + Math.floor((view.step + 1) * per) - 1;
    const c0 = x(from - 0.5);
    const c1 = x(to + 0.5);
    node.append(svg("rect", { x: c0, y: margin.top, width: Math.max(2, c1 - c0), height: H - margin.top - margin.bottom, class: "step-band", id: "series-step" }));
  }

  for (const band of series.forecast.intervals) {
    const upper = band.hi.map((v, k) => [x(n + k), y(v)]);
    const lower = band.lo.map((v, k) => [x(n + k), y(v)]).reverse();
    node.append(svg("path", { d: `${path(upper)}L${path(lower).slice(1)}Z`, class: `interval level-${band.level}`, fill: COLORS.forecast, "fill-opacity": band.level >= 90 ? 0.14 : 0.24 }));
  }
  const fitted = series.fitted.ds.map((ds, k) => [x(position.get(ds)), y(series.fitted.y[k])]).filter(([px]) => Number.isFinite(px) && px >= margin.left);
  node.append(svg("path", { d: path(fitted), class: "line fitted", stroke: COLORS.fitted }));
  const hist = series.history.y.map((v, i) => [x(i), y(v)]).slice(first);
  node.append(svg("path", { d: path(hist), class: "line history", stroke: COLORS.history }));
  const join = [[x(n - 1), y(series.history.y[n - 1])]];
  const fc = join.concat(series.forecast.mean.map((v, k) => [x(n + k), y(v)]));
  node.append(svg("path", { d: path(fc), class: "line forecast", stroke: COLORS.forecast, id: "forecast-line" }));
  if (view.whatif) {
    const wi = join.concat(view.whatif.map((v, k) => [x(n + k), y(v)]));
    node.append(svg("path", { d: path(wi), class: "line whatif", stroke: COLORS.whatif, id: "whatif-line" }));
  }
  node.append(svg("line", { x1: x(n - 0.5), x2: x(n - 0.5), y1: margin.top, y2: H - margin.bottom, class: "now" }));

  const items = [
    { label: "history", color: COLORS.history },
    { label: "fitted (one step ahead)", color: COLORS.fitted, kind: "dashed" },
    { label: "forecast", color: COLORS.forecast },
  ];
  for (const band of series.forecast.intervals) items.push({ label: `${band.level}% interval`, color: COLORS.forecast, kind: `box level-${band.level}` });
  if (view.whatif) items.push({ label: "what-if forecast", color: COLORS.whatif, kind: "dashed" });
  items.push({ label: "input window / current step", color: COLORS.cursor, kind: "box window" });
  legend(legendNode, items);
}

// Three stacked panels sharing the step axis: gates, memories, inputs.
export function drawTimeline(node, legendNode, trace, step, onPick) {
  clear(node);
  const T = trace.labels.length;
  const margin = { left: 112, right: 18 };
  const x = scale(-0.5, T - 0.5, margin.left, W - margin.right);
  const inputNames = trace.inputs.names.slice(0, 6);
  const panels = [
    { title: "gates", top: 12, height: 112, keys: ["forget_gate", "input_gate", "candidate_memory", "output_gate"], source: trace.gates, range: [-1.05, 1.05] },
    { title: "memories", top: 148, height: 92, keys: ["long_term_memory", "short_term_memory"], source: trace.memories },
    { title: "inputs x", top: 264, height: 44, keys: inputNames.map((_, j) => j), source: trace.inputs.values, input: true },
  ];
  const H = 330;
  node.append(svg("rect", { x: x(step - 0.5), y: 4, width: x(0.5) - x(-0.5), height: H - 26, class: "step-band", id: "timeline-step" }));

  for (const panel of panels) {
    const series = panel.keys.map((key) => panel.source[key]);
    const [lo, hi] = panel.range || extent(series.flat(), 0.12);
    const y = scale(lo, hi, panel.top + panel.height, panel.top);
    const g = svg("g", { class: "panel" });
    g.append(svg("text", { x: 6, y: panel.top + panel.height / 2 + 4, class: "panel-title" }, panel.title));
    const grid = panel.range ? [-1, 0, 1] : ticks(lo, hi, 2);
    for (const t of grid) {
      g.append(svg("line", { x1: margin.left, x2: W - margin.right, y1: y(t), y2: y(t), class: t === 0 ? "zero" : "gridline" }));
      g.append(svg("text", { x: margin.left - 8, y: y(t) + 4, class: "tick", "text-anchor": "end" }, fmt(t, Number.isInteger(t) ? 0 : 2)));
    }
    panel.keys.forEach((key, k) => {
      const values = series[k];
      const color = panel.input ? `hsl(${215 + 35 * k}, 20%, ${35 + 10 * k}%)` : COLORS[key];
      g.append(svg("path", { d: path(values.map((v, t) => [x(t), y(v)])), class: "line thin", stroke: color, "data-series": String(key) }));
      g.append(svg("circle", { cx: x(step), cy: y(values[step]), r: 4, fill: color, class: "dot" }));
    });
    node.append(g);
  }
  const every = Math.max(1, Math.ceil(T / 12));
  for (let t = 0; t < T; t += every) {
    node.append(svg("text", { x: x(t), y: H - 6, class: "tick", "text-anchor": "middle" }, shortLabel(trace.labels[t])));
  }
  // Click targets, one per step.
  for (let t = 0; t < T; t += 1) {
    const hit = svg("rect", { x: x(t - 0.5), y: 0, width: x(0.5) - x(-0.5), height: H - 20, class: "hit", "data-step": t });
    hit.append(svg("title", {}, `step ${t}: ${trace.labels[t]}`));
    hit.addEventListener("click", () => onPick(t));
    node.append(hit);
  }
  const items = ["forget_gate", "input_gate", "candidate_memory", "output_gate", "long_term_memory", "short_term_memory"].map((key) => ({ label: GATE_NAMES[key], color: COLORS[key] }));
  inputNames.forEach((name, k) => items.push({ label: `x: ${name}`, color: `hsl(${215 + 35 * k}, 20%, ${35 + 10 * k}%)` }));
  legend(legendNode, items);
}

// The forecast horizon up close: the end of the input window, the fitted model's forecast and,
// when edits are active, the what-if forecast.
export function drawComparison(node, legendNode, series, baseline, whatif) {
  clear(node);
  const W2 = 640;
  const H = 230;
  const margin = { left: 56, right: 14, top: 12, bottom: 28 };
  const past = Math.min(series.history.y.length, Math.max(12, series.forecast.ds.length));
  const history = series.history.y.slice(-past);
  const historyDs = series.history.ds.slice(-past);
  const horizon = series.forecast.ds.length;
  const x = scale(0, past + horizon - 1, margin.left, W2 - margin.right);
  const values = [...history, ...series.forecast.mean, ...(whatif || [])];
  for (const band of series.forecast.intervals) values.push(...band.lo, ...band.hi);
  const [lo, hi] = extent(values);
  const y = scale(lo, hi, H - margin.bottom, margin.top);
  const grid = svg("g", { class: "grid" });
  for (const t of ticks(lo, hi, 4)) {
    grid.append(svg("line", { x1: margin.left, x2: W2 - margin.right, y1: y(t), y2: y(t) }));
    grid.append(svg("text", { x: margin.left - 8, y: y(t) + 4, class: "tick", "text-anchor": "end" }, fmt(t, Math.abs(hi - lo) < 10 ? 2 : 0)));
  }
  const labels = [...historyDs, ...series.forecast.ds];
  const every = Math.max(1, Math.ceil(labels.length / 6));
  for (let p = 0; p < labels.length; p += every) {
    grid.append(svg("text", { x: x(p), y: H - 8, class: "tick", "text-anchor": "middle" }, shortLabel(labels[p])));
  }
  node.append(grid);
  for (const band of series.forecast.intervals) {
    const upper = band.hi.map((v, k) => [x(past + k), y(v)]);
    const lower = band.lo.map((v, k) => [x(past + k), y(v)]).reverse();
    node.append(svg("path", { d: `${path(upper)}L${path(lower).slice(1)}Z`, fill: COLORS.forecast, "fill-opacity": band.level >= 90 ? 0.12 : 0.2 }));
  }
  node.append(svg("path", { d: path(history.map((v, i) => [x(i), y(v)])), class: "line history", stroke: COLORS.history }));
  const join = [[x(past - 1), y(history[past - 1])]];
  node.append(svg("path", { d: path(join.concat(baseline.map((v, k) => [x(past + k), y(v)]))), class: "line forecast", stroke: COLORS.forecast }));
  if (whatif) {
    node.append(svg("path", { d: path(join.concat(whatif.map((v, k) => [x(past + k), y(v)]))), class: "line whatif", stroke: COLORS.whatif }));
    whatif.forEach((v, k) => node.append(svg("circle", { cx: x(past + k), cy: y(v), r: 3, fill: COLORS.whatif })));
  }
  legend(legendNode, [
    { label: "history", color: COLORS.history },
    { label: "forecast of the fitted model", color: COLORS.forecast },
    { label: whatif ? "what-if forecast" : "what-if forecast (apply an edit)", color: COLORS.whatif, kind: "dashed" },
  ]);
}
