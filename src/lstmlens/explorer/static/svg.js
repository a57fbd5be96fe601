// Small drawing helpers: build SVG elements, scale values, format numbers for display.
// Formatting only: every number shown comes from the server's trace.

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function html(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// A linear map from [d0, d1] to [r0, r1].
export function scale(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  const f = (v) => r0 + ((v - d0) / span) * (r1 - r0);
  f.domain = [d0, d1];
  return f;
}

// Round numbers for an axis covering [lo, hi] with about `count` ticks.
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

export function extent(values, pad = 0.06) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (!finite.length) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi === lo) { lo -= 1; hi += 1; }
  const margin = (hi - lo) * pad;
  return [lo - margin, hi + margin];
}

export function path(points) {
  let d = "";
  let pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
    d += `${pen ? "L" : "M"}${x.toFixed(2)},${y.toFixed(2)}`;
    pen = true;
  }
  return d;
}

// Display formats: fixed decimals with a real minus sign, and signed for parts of a sum.
export function fmt(value, digits = 3) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const text = Math.abs(value) >= 1e5 ? value.toExponential(2) : value.toFixed(digits);
  const clean = /^-0\.?0*$/.test(text) ? text.slice(1) : text;
  return clean.replace("-", "−");
}

export function signed(value, digits = 3) {
  const text = fmt(value, digits);
  return value >= 0 || text === fmt(0, digits) ? `+${text}` : text;
}

export function percent(value) {
  return `${(value * 100).toFixed(1)}%`;
}

// A text node that shows a rounded number and carries the exact value in data-value.
export function number(value, attrs = {}, digits = 3, formatter = fmt) {
  return svg("text", { ...attrs, "data-value": String(value) }, formatter(value, digits));
}
