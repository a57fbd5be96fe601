"""What the memory holds at a glance: per unit, over a whole recorded window.

For each unit of a layer this reads the trace's gates and memories and reports:

- how long the long-term memory (cell state c_t) lasts: the forget gate (f_t, % of the
  long-term memory kept) as a *half-life*, the number of steps until half of it is gone if
  nothing new were written, ``ln 0.5 / ln f`` (infinite for f -> 1);
- how often each gate saturates: a sigmoid gate (input i_t, forget f_t, output o_t) below
  0.05 ("shut") or above 0.95 ("open"), the potential memory (candidate g_t, tanh path)
  beyond -0.95 or +0.95;
- when the long-term memory was written (a large ``i_t x g_t``) or erased (a low f_t).

The arithmetic is presentation only (logs, products, counts of the recorded values).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lstmlens.explain._checks import check_choice, resolve_index
from lstmlens.explain._numbers import compact, fixed, percent, signed, steps
from lstmlens.trace import LayerTrace, NetworkTrace

SIGMOID_GATES = ("input_gate", "forget_gate", "output_gate")
GATE_NAMES = {
    "input_gate": "input gate (i_t)",
    "forget_gate": "forget gate (f_t)",
    "candidate_memory": "potential memory (g_t)",
    "output_gate": "output gate (o_t)",
}


def half_life(forget_gate: ArrayLike) -> NDArray[np.float64]:
    """Steps until half of the long-term memory is gone if the forget gate stayed at f.

    ``ln 0.5 / ln f``: 1 step for f = 0.5, about 13.5 for f = 0.95, ``inf`` for f = 1
    (nothing is ever forgotten) and close to 0 for f -> 0.

    Parameters
    ----------
    forget_gate : array_like
        Forget gate values f_t in [0, 1].

    Returns
    -------
    numpy.ndarray
        Same shape, float64.
    """
    f = np.asarray(forget_gate, dtype=np.float64)
    log_f = np.log(np.clip(f, np.finfo(np.float64).tiny, 1.0))  # <= 0; 0 exactly at f = 1
    safe = np.where(log_f < 0.0, log_f, -1.0)
    return np.asarray(np.where(log_f < 0.0, math.log(0.5) / safe, np.inf))


@dataclass(frozen=True)
class Saturation:
    """How many of ``steps`` steps a gate spent shut/negative (``low``) or open (``high``)."""

    gate: str
    low: int
    high: int
    steps: int

    @property
    def fraction(self) -> float:
        """Share of steps saturated either way."""
        return (self.low + self.high) / self.steps


@dataclass(frozen=True)
class MemoryEvent:
    """A step where the long-term memory was written (``amount`` = i_t g_t) or erased
    (``amount`` = f_t)."""

    time: int
    label: str
    amount: float


@dataclass(frozen=True)
class UnitSummary:
    """One unit over the window.

    Attributes
    ----------
    typical_forget_gate : float
        Geometric mean of the forget gate f_t over the window.
    half_life : float
        :func:`half_life` of ``typical_forget_gate``, in steps.
    kept_over_window : float
        Product of f_t over the window: the share of the starting long-term memory (cell
        state c_0) that would survive to the end without new writes.
    saturation : tuple of Saturation
        One per gate, in the order i, f, g, o.
    writes, erasures : tuple of MemoryEvent
        Largest writes (|i_t g_t| >= threshold) and lowest forget gates (f_t < threshold).
    final_long_term_memory, final_short_term_memory : float
        c_T and h_T.
    """

    unit: int
    typical_forget_gate: float
    half_life: float
    kept_over_window: float
    saturation: tuple[Saturation, ...]
    writes: tuple[MemoryEvent, ...]
    erasures: tuple[MemoryEvent, ...]
    final_long_term_memory: float
    final_short_term_memory: float

    def to_text(self) -> str:
        """Two to four lines in plain words."""
        lines = [
            f"unit {self.unit}: forget gate typically {fixed(self.typical_forget_gate)}, so "
            f"the long-term memory has a half-life of {steps(self.half_life)} steps "
            f"({percent(self.kept_over_window)} of the starting memory survives the window); "
            f"ends with long-term memory {fixed(self.final_long_term_memory)}, short-term "
            f"memory {fixed(self.final_short_term_memory)}"
        ]
        busy = [_saturation_text(s) for s in self.saturation if s.low + s.high]
        if busy:
            lines.append("  saturated: " + "; ".join(busy))
        if self.writes:
            lines.append("  written most at " + ", ".join(
                f"{e.label} ({signed(e.amount)})" for e in self.writes))
        if self.erasures:
            lines.append("  erased at " + ", ".join(
                f"{e.label} (f={compact(e.amount)})" for e in self.erasures))
        return "\n".join(lines)


@dataclass(frozen=True)
class MemorySummary:
    """Every unit of one layer over one recorded window."""

    layer: int | None
    row: int
    steps: int
    units: tuple[UnitSummary, ...]
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_text(self) -> str:
        """A heading and a few lines per unit."""
        where = f"layer {self.layer}, " if self.layer is not None else ""
        head = (f"Memory summary ({where}{self.steps} steps; saturated = sigmoid gate < "
                f"{compact(self.thresholds['low'])} or > {compact(self.thresholds['high'])}, "
                f"|potential memory| > {compact(self.thresholds['high'])})")
        return "\n".join([head, *(unit.to_text() for unit in self.units)])

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (``inf`` half-lives stay floats)."""
        return asdict(self)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.to_text())}</pre>"


def summarize_layer(
    layer: LayerTrace,
    *,
    row: int = 0,
    units: Sequence[int] | None = None,
    step_labels: Sequence[str] | None = None,
    layer_index: int | None = None,
    low: float = 0.05,
    high: float = 0.95,
    write_threshold: float = 0.5,
    erase_threshold: float = 0.5,
    max_events: int = 3,
) -> MemorySummary:
    """Summarise what each unit's memory did over a recorded window.

    Parameters
    ----------
    layer : LayerTrace
        One layer's record (a backward-only record is enough).
    row : int
        Batch row (series or window).
    units : sequence of int, optional
        Units to include (default all).
    step_labels : sequence of str, optional
        Names of the steps (default ``"step t"``).
    layer_index : int, optional
        The layer's position, for the heading.
    low, high : float
        Saturation thresholds for the sigmoid gates; the potential memory (tanh) is
        saturated when ``|g_t| > high``.
    write_threshold : float
        A step writes the long-term memory when ``|i_t x g_t| >= write_threshold``.
    erase_threshold : float
        A step erases it when the forget gate ``f_t < erase_threshold``.
    max_events : int
        How many writes and erasures to list per unit (largest first).

    Returns
    -------
    MemorySummary
    """
    batch, count, hidden = layer.short_term_memory.shape
    row = resolve_index("row", row, batch, "the trace's number of rows")
    chosen = [check_choice("unit", u, hidden, "the layer's hidden size")
              for u in (range(hidden) if units is None else units)]
    labels = list(step_labels) if step_labels is not None else [f"step {t}" for t in range(count)]
    if len(labels) != count:
        raise ValueError(f"step_labels has {len(labels)} labels but the trace has {count} steps.")
    gates = {key: getattr(layer, key)[row] for key in GATE_NAMES}  # (T, H) each
    written = gates["input_gate"] * gates["candidate_memory"]  # i_t g_t, (T, H)
    summaries = []
    for unit in chosen:
        forget = gates["forget_gate"][:, unit].astype(np.float64)
        log_kept = float(np.sum(np.log(np.clip(forget, np.finfo(np.float64).tiny, 1.0))))
        typical = math.exp(log_kept / count)
        saturation = tuple(
            _saturation(key, gates[key][:, unit], low, high) for key in GATE_NAMES
        )
        writes = _events(written[:, unit], labels, np.abs(written[:, unit]) >= write_threshold,
                         -np.abs(written[:, unit]), max_events)
        erasures = _events(forget, labels, forget < erase_threshold, forget, max_events)
        summaries.append(UnitSummary(
            unit=unit, typical_forget_gate=typical, half_life=float(half_life(typical)),
            kept_over_window=math.exp(log_kept), saturation=saturation, writes=writes,
            erasures=erasures,
            final_long_term_memory=float(layer.long_term_memory[row, -1, unit]),
            final_short_term_memory=float(layer.short_term_memory[row, -1, unit]),
        ))
    thresholds = {"low": low, "high": high, "write": write_threshold, "erase": erase_threshold}
    return MemorySummary(layer=layer_index, row=row, steps=count, units=tuple(summaries),
                         thresholds=thresholds)


def summarize_trace(
    trace: NetworkTrace, *, layer: int = -1, row: int = 0, **options: Any
) -> MemorySummary:
    """:func:`summarize_layer` for one layer of a network trace (default the top one)."""
    index = resolve_index("layer", layer, len(trace.layers), "the network's number of layers")
    return summarize_layer(trace.layers[index], row=row, layer_index=index, **options)


def most_active_unit(trace: NetworkTrace, *, layer: int = -1, time: int = -1, row: int = 0) -> int:
    """The unit that mattered most at one step.

    At the top layer's last step: the unit whose short-term memory moves the Dense layer's
    outputs most (largest sum of ``|weight x h_T|``, from ``head_contributions``).
    Elsewhere: the unit with the largest ``|h_t|`` (short-term memory).
    """
    layer = resolve_index("layer", layer, len(trace.layers), "the network's number of layers")
    record = trace.layers[layer]
    time = resolve_index("step", time, record.steps, "the input window's number of steps")
    row = resolve_index("row", row, int(record.short_term_memory.shape[0]), "the batch size")
    if layer == len(trace.layers) - 1 and time == record.steps - 1:
        scores = np.abs(trace.head_contributions[row]).sum(axis=0)  # (H,)
    else:
        scores = np.abs(record.short_term_memory[row, time])
    return int(np.argmax(scores))


def _saturation(key: str, values: NDArray[Any], low: float, high: float) -> Saturation:
    if key == "candidate_memory":
        return Saturation(key, int(np.sum(values < -high)), int(np.sum(values > high)),
                          int(values.size))
    return Saturation(key, int(np.sum(values < low)), int(np.sum(values > high)),
                      int(values.size))


def _saturation_text(s: Saturation) -> str:
    if s.gate == "candidate_memory":
        words = ("at -1", "at +1")
    else:
        words = ("shut", "open")
    parts = [f"{words[0]} {percent(s.low / s.steps)}" if s.low else "",
             f"{words[1]} {percent(s.high / s.steps)}" if s.high else ""]
    return f"{GATE_NAMES[s.gate]} " + " and ".join(p for p in parts if p) + " of steps"


def _events(
    amounts: NDArray[Any], labels: Sequence[str], selected: NDArray[np.bool_],
    order_key: NDArray[Any], limit: int,
) -> tuple[MemoryEvent, ...]:
    picked = [int(t) for t in np.argsort(order_key, kind="stable") if selected[t]][:limit]
    return tuple(MemoryEvent(t, labels[t], float(amounts[t])) for t in sorted(picked))
