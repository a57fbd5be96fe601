// The seed's unit diagram in SVG: forget gate, input gate (sigmoid "% to remember" and tanh
// "potential memory" paths), output gate, the long-term memory line on top, the short-term
// memory and input along the bottom, and the Dense layer that turns h(t) into the prediction.
// Every number is one the server read from the engine's trace.

import { clear, fmt, number, signed, svg } from "./svg.js";
import { COLORS } from "./charts.js";

const Y_C = 70; // long-term memory line
const Y_BUS = 478; // where x(t) and h(t-1) run under the gates
const GATE_TOP = 258;
const GATE_H = 176;
const GATE_W = 182;
const GATES = [
  { key: "forget_gate", cx: 282, title: "Forget gate", sub: "σ: % of the memory kept", sym: "f" },
  { key: "input_gate", cx: 484, title: "Input gate", sub: "σ: % to remember", sym: "i" },
  { key: "candidate_memory", cx: 686, title: "Potential memory", sub: "tanh: new memory", sym: "g" },
  { key: "output_gate", cx: 888, title: "Output gate", sub: "σ: % let out", sym: "o" },
];
const X_ADD = 585; // the + on the long-term memory line, and the i x g node under it
const X_OUT = 1062; // the output path: tanh(c) and o x tanh(c)

function arrowDefs(node) {
  const defs = svg("defs");
  for (const [id, color] of [["arrow", "#5b6477"], ["arrow-c", COLORS.long_term_memory], ["arrow-h", COLORS.short_term_memory]]) {
    defs.append(svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, [
      svg("path", { d: "M0,0L10,5L0,10z", fill: color }),
    ]));
  }
  node.append(defs);
}

function wire(points, cls, marker = "arrow") {
  const d = points.map(([x, y], k) => `${k ? "L" : "M"}${x},${y}`).join("");
  return svg("path", { d, class: `wire ${cls}`, "marker-end": marker ? `url(#${marker})` : null });
}

// A rounded label on a path: "name value", value exact in data-value.
function pill(x, y, name, value, field, cls = "") {
  const g = svg("g", { class: `pill ${cls}`, transform: `translate(${x},${y})` });
  const text = name ? `${name} ` : "";
  const width = Math.max(64, 9 + 7.4 * (text.length + fmt(value).length));
  g.append(svg("rect", { x: -width / 2, y: -13, width, height: 26, rx: 13 }));
  const label = svg("text", { x: 0, y: 5, "text-anchor": "middle" });
  if (name) label.append(svg("tspan", { class: "pill-name" }, text));
  const num = number(value, { "data-field": field });
  label.append(svg("tspan", { class: "pill-value", "data-field": field, "data-value": String(value) }, num.textContent));
  g.append(label);
  return g;
}

function op(x, y, symbol, cls) {
  return svg("g", { class: `op ${cls}`, transform: `translate(${x},${y})` }, [
    svg("circle", { r: 15 }),
    svg("text", { y: 6, "text-anchor": "middle" }, symbol),
  ]);
}

function gateBlock(gate, data) {
  const x0 = gate.cx - GATE_W / 2;
  const g = svg("g", { class: `gate ${gate.key}`, "data-gate": gate.key });
  g.append(svg("rect", { x: x0, y: GATE_TOP, width: GATE_W, height: GATE_H, rx: 12, class: "gate-box", stroke: COLORS[gate.key] }));
  g.append(svg("rect", { x: x0, y: GATE_TOP, width: GATE_W, height: 44, rx: 12, class: "gate-head", fill: COLORS[gate.key] }));
  g.append(svg("rect", { x: x0, y: GATE_TOP + 30, width: GATE_W, height: 14, fill: COLORS[gate.key] }));
  g.append(svg("text", { x: gate.cx, y: GATE_TOP + 19, class: "gate-title", "text-anchor": "middle" }, gate.title));
  g.append(svg("text", { x: gate.cx, y: GATE_TOP + 36, class: "gate-sub", "text-anchor": "middle" }, gate.sub));
  const rows = [
    ["from input", data.input_part, "input_part"],
    ["from memory", data.memory_part, "memory_part"],
    ["bias", data.bias, "bias"],
  ];
  rows.forEach(([name, value, field], k) => {
    const y = GATE_TOP + 64 + 20 * k;
    g.append(svg("text", { x: x0 + 12, y, class: "row-name" }, name));
    g.append(number(value, { x: x0 + GATE_W - 12, y, class: "row-value", "text-anchor": "end", "data-field": `${gate.key}.${field}` }, 3, signed));
  });
  const ySum = GATE_TOP + 64 + 60;
  g.append(svg("line", { x1: x0 + 12, x2: x0 + GATE_W - 12, y1: ySum - 14, y2: ySum - 14, class: "rule" }));
  g.append(svg("text", { x: x0 + 12, y: ySum, class: "row-name" }, "sum z"));
  g.append(number(data.weighted_sum, { x: x0 + GATE_W - 12, y: ySum, class: "row-value strong", "text-anchor": "end", "data-field": `${gate.key}.weighted_sum` }, 3));
  const fn = data.activation === "tanh" ? "tanh(z)" : "σ(z)";
  g.append(svg("text", { x: x0 + 12, y: ySum + 27, class: "row-name big" }, [
    svg("tspan", { class: "sym" }, gate.sym), ` = ${fn}`,
  ]));
  g.append(number(data.value, { x: x0 + GATE_W - 12, y: ySum + 27, class: "row-value big", "text-anchor": "end", fill: COLORS[gate.key], "data-field": `${gate.key}.value` }, 3));
  const tip = svg("title", {}, `${gate.title}: ${signed(data.input_part)} (input) ${signed(data.memory_part)} (memory) ${signed(data.bias)} (bias) = ${fmt(data.weighted_sum)} → ${fmt(data.value)}`);
  g.append(tip);
  return g;
}

function inputBox(view) {
  const g = svg("g", { class: "inputs" });
  const shown = view.inputs.slice(0, 5);
  const height = 40 + 20 * shown.length + (view.inputs.length > shown.length ? 18 : 0);
  const top = Y_BUS - 26 - height;
  g.append(svg("rect", { x: 12, y: top, width: 170, height, rx: 10, class: "input-box" }));
  g.append(svg("text", { x: 24, y: top + 22, class: "box-title" }, "input x(t)"));
  shown.forEach((input, k) => {
    const y = top + 44 + 20 * k;
    const name = input.name.replace(/^h\[(\d+)\] of layer (\d+)$/, "h[$1] (layer $2)");
    const shortName = name.length > 15 ? `${name.slice(0, 14)}…` : name;
    g.append(svg("text", { x: 24, y, class: "row-name small" }, [shortName, svg("title", {}, input.name)]));
    g.append(number(input.value, { x: 172, y, class: "row-value", "text-anchor": "end", "data-field": `inputs.${input.index}` }, 3));
  });
  if (view.inputs.length > shown.length) {
    g.append(svg("text", { x: 24, y: top + 44 + 20 * shown.length, class: "row-name small" }, `+ ${view.inputs.length - shown.length} more`));
  }
  g.append(wire([[97, top + height], [97, Y_BUS]], "bus", null));
  return g;
}

function denseBox(view) {
  const d = view.dense;
  const g = svg("g", { class: `dense ${d.reads_this_step ? "active" : "idle"}` });
  const x0 = 1122;
  const y0 = 392;
  g.append(svg("rect", { x: x0, y: y0, width: 168, height: 126, rx: 12, class: "dense-box" }));
  g.append(svg("text", { x: x0 + 84, y: y0 + 22, class: "box-title", "text-anchor": "middle" }, "Dense layer"));
  if (!d.reads_this_step) {
    const lines = ["reads the top layer's", "short-term memory at", "the last step only"];
    lines.forEach((line, k) => g.append(svg("text", { x: x0 + 84, y: y0 + 52 + 19 * k, class: "row-name small", "text-anchor": "middle" }, line)));
    return g;
  }
  const rows = [
    ["w × h (unit)", d.contribution[0], "dense.contribution"],
    ["prediction", d.output[0], "dense.output"],
  ];
  rows.forEach(([name, value, field], k) => {
    const y = y0 + 50 + 22 * k;
    g.append(svg("text", { x: x0 + 12, y, class: "row-name small" }, name));
    g.append(number(value, { x: x0 + 156, y, class: "row-value", "text-anchor": "end", "data-field": field }, 3, k ? fmt : signed));
  });
  g.append(svg("text", { x: x0 + 12, y: y0 + 100, class: "row-name small" }, "in data units"));
  g.append(number(d.forecast[0], { x: x0 + 156, y: y0 + 100, class: "row-value big", "text-anchor": "end", fill: COLORS.forecast, "data-field": "dense.forecast" }, 2));
  return g;
}

export function drawUnit(node, view) {
  clear(node);
  arrowDefs(node);
  const gates = Object.fromEntries(GATES.map((gate) => [gate.key, gate]));
  const gx = (key) => gates[key].cx;

  // Long-term memory line: c(t-1) -> x forget -> + input -> c(t).
  node.append(svg("text", { x: 16, y: Y_C - 30, class: "line-title c" }, "long-term memory (cell state)"));
  node.append(wire([[16, Y_C], [gx("forget_gate") - 17, Y_C]], "c", null));
  node.append(wire([[gx("forget_gate") + 15, Y_C], [X_ADD - 17, Y_C]], "c", null));
  node.append(wire([[X_ADD + 15, Y_C], [1282, Y_C]], "c", "arrow-c"));
  node.append(pill(96, Y_C, "c(t−1)", view.previous_long_term_memory, "previous_long_term_memory", "c"));
  node.append(pill((gx("forget_gate") + X_ADD) / 2, Y_C, "kept", view.kept_memory, "kept_memory", "c"));
  node.append(pill(800, Y_C, "c(t)", view.long_term_memory, "long_term_memory", "c strong"));
  node.append(op(gx("forget_gate"), Y_C, "×", "mul"));
  node.append(op(X_ADD, Y_C, "+", "add"));
  node.append(svg("text", { x: 1282, y: Y_C - 14, class: "line-note", "text-anchor": "end" }, "to the next step →"));

  // Short-term memory h(t-1) and input x(t) run under the gates.
  node.append(svg("text", { x: 16, y: Y_BUS + 44, class: "line-title h" }, "short-term memory (hidden state)"));
  node.append(wire([[16, Y_BUS], [gx("output_gate"), Y_BUS]], "bus h", null));
  node.append(pill(210, Y_BUS + 18, "h(t−1)", view.previous_short_term_memory, "previous_short_term_memory", "h"));
  node.append(inputBox(view));

  for (const gate of GATES) {
    node.append(wire([[gate.cx, Y_BUS], [gate.cx, GATE_TOP + GATE_H + 2]], "feed"));
    node.append(gateBlock(gate, view.gates[gate.key]));
  }

  // Forget gate up to the x on the memory line.
  const f = view.gates.forget_gate;
  node.append(wire([[gx("forget_gate"), GATE_TOP], [gx("forget_gate"), Y_C + 17]], "gate-out forget"));
  node.append(pill(gx("forget_gate"), 168, "f", f.value, "forget_gate.out", "gate"));

  // Input gate x potential memory, then up to the +.
  const yMul = 168;
  node.append(wire([[gx("input_gate"), GATE_TOP], [gx("input_gate"), yMul], [X_ADD - 17, yMul]], "gate-out"));
  node.append(wire([[gx("candidate_memory"), GATE_TOP], [gx("candidate_memory"), yMul], [X_ADD + 17, yMul]], "gate-out"));
  node.append(op(X_ADD, yMul, "×", "mul"));
  node.append(wire([[X_ADD, yMul - 15], [X_ADD, Y_C + 17]], "gate-out"));
  node.append(pill(gx("input_gate"), 214, "i", view.gates.input_gate.value, "input_gate.out", "gate"));
  node.append(pill(gx("candidate_memory"), 214, "g", view.gates.candidate_memory.value, "candidate_memory.out", "gate"));
  node.append(pill(X_ADD, 120, "adds", view.added_memory, "added_memory", "gate"));

  // Output path: c(t) -> tanh -> x output gate -> h(t) -> Dense.
  const yTanh = 150;
  const yOut = GATE_TOP + 88;
  node.append(wire([[X_OUT, Y_C], [X_OUT, yTanh - 20]], "c-branch"));
  node.append(svg("rect", { x: X_OUT - 52, y: yTanh - 20, width: 104, height: 40, rx: 9, class: "tanh-box" }));
  node.append(svg("text", { x: X_OUT - 44, y: yTanh + 5, class: "row-name" }, "tanh"));
  node.append(number(view.squashed_memory, { x: X_OUT + 44, y: yTanh + 5, class: "row-value", "text-anchor": "end", "data-field": "squashed_memory" }, 3));
  node.append(wire([[X_OUT, yTanh + 20], [X_OUT, yOut - 17]], "c-branch"));
  node.append(wire([[gx("output_gate") + GATE_W / 2, yOut], [X_OUT - 17, yOut]], "gate-out"));
  node.append(op(X_OUT, yOut, "×", "mul"));
  node.append(pill((gx("output_gate") + GATE_W / 2 + X_OUT) / 2 - 8, yOut - 24, "o", view.gates.output_gate.value, "output_gate.out", "gate small"));
  node.append(wire([[X_OUT, yOut + 15], [X_OUT, 455], [1120, 455]], "h", "arrow-h"));
  node.append(pill(X_OUT, 400, "h(t)", view.short_term_memory, "short_term_memory", "h strong"));
  node.append(svg("text", { x: X_OUT - 10, y: 500, class: "line-note", "text-anchor": "end" }, "h(t) also goes to the next step"));
  node.append(denseBox(view));
}
