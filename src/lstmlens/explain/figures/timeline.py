"""The memory timeline: the series and its forecast on top, and below, aligned in time, the
long-term memory (cell state c_t), the short-term memory (hidden state h_t) and the forget
(f_t), input (i_t, "% to remember") and output (o_t) gates of a few units.

When each network step reads several observations (say a day of 24 hourly values per step),
step t is drawn at the last observation it saw, so the memories line up with the series.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lstmlens.explain._checks import check_choice, resolve_index
from lstmlens.explain._numbers import label
from lstmlens.explain.figures._base import COLOURS, new_figure
from lstmlens.explain.forecast import ForecastTraceLike
from lstmlens.explain.summary import most_active_unit
from lstmlens.trace import NetworkTrace


def memory_timeline(
    source: NetworkTrace | ForecastTraceLike,
    *,
    series: Sequence[float] | np.ndarray | None = None,
    units: Sequence[int] | None = None,
    layer: int = -1,
    row: int = 0,
    max_units: int = 3,
    width: float = 11.0,
) -> Figure:
    """Draw the series, the forecast and the memories and gates of a few units over time.

    Parameters
    ----------
    source : ForecastTrace or NetworkTrace
        A forecaster's ``trace(series_id)`` (history and forecast come from it) or a bare
        network trace.
    series : 1-D array, optional
        With a NetworkTrace: the observations to draw on top (one per step, or a whole
        number of observations per step). Default: the first input feature.
    units : sequence of int, optional
        Units to draw (default: the ``max_units`` whose short-term memory moves the
        prediction most, read from the trace's Dense contributions).
    layer, row : int
        Layer and batch row of the trace.
    max_units : int
        How many units to pick when ``units`` is None.
    width : float
        Figure width in inches; the height grows with the number of units.

    Returns
    -------
    matplotlib.figure.Figure
    """
    trace, history, forecast, labels = _unpack(source, series, row)
    layer = resolve_index("layer", layer, len(trace.layers), "the network's number of layers")
    record = trace.layers[layer]
    steps = record.steps
    chosen = _units(trace, layer, row, units, max_units)
    per_step = max(1, len(history) // steps) if len(history) % steps == 0 else 1
    step_x = np.arange(steps) * per_step + per_step - 1 + (len(history) - steps * per_step)
    rows = 1 + 2 * len(chosen)
    fig = new_figure(width, 1.9 + 1.35 * rows)
    grid = fig.add_gridspec(rows, 1, left=0.08, right=0.83, top=0.94, bottom=0.07, hspace=0.35)
    top = fig.add_subplot(grid[0])
    _series_panel(top, history, forecast, labels)
    fig.suptitle(f"Memory timeline: layer {layer}, units {', '.join(map(str, chosen))}")
    for k, unit in enumerate(chosen):
        memory_ax = fig.add_subplot(grid[1 + 2 * k], sharex=top)
        memory_ax.plot(step_x, record.long_term_memory[row, :, unit], marker=".",
                       color=COLOURS["long_term_memory"], label="long-term memory $c_t$")
        memory_ax.plot(step_x, record.short_term_memory[row, :, unit], marker=".",
                       color=COLOURS["short_term_memory"], label="short-term memory $h_t$")
        memory_ax.axhline(0.0, color="#bbbbbb", linewidth=0.8)
        memory_ax.set_ylabel(f"unit {unit}\nmemory", fontsize=9)
        gate_ax = fig.add_subplot(grid[2 + 2 * k], sharex=top)
        for key, name in (("forget_gate", "forget $f_t$"), ("input_gate", "input $i_t$"),
                          ("output_gate", "output $o_t$")):
            gate_ax.plot(step_x, getattr(record, key)[row, :, unit], marker=".",
                         color=COLOURS[key], label=name)
        gate_ax.set_ylim(-0.05, 1.05)
        gate_ax.set_ylabel(f"unit {unit}\ngates", fontsize=9)
        if k == 0:
            memory_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
            gate_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    axes = fig.axes
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("time (steps of the input window, then the forecast)", fontsize=9)
    return fig


def _unpack(
    source: NetworkTrace | ForecastTraceLike, series: Sequence[float] | np.ndarray | None, row: int
) -> tuple[NetworkTrace, np.ndarray, np.ndarray, list[str]]:
    """Return the trace, the history, the forecast and x tick labels from either source."""
    if isinstance(source, NetworkTrace):
        trace = source
        row = resolve_index("row", row, int(trace.output.shape[0]), "the trace's number of rows")
        history = (np.asarray(series, dtype=np.float64).reshape(-1) if series is not None
                   else np.asarray(trace.layers[0].inputs[row, :, 0], dtype=np.float64))
        return trace, history, np.empty(0), [str(t) for t in range(len(history))]
    trace = source.network_trace
    history = np.asarray(source.history, dtype=np.float64).reshape(-1)
    forecast = np.asarray(source.forecast, dtype=np.float64).reshape(-1)
    labels = [label(x) for x in list(source.history_index) + list(source.forecast_index)]
    return trace, history, forecast, labels


def _units(trace: NetworkTrace, layer: int, row: int, units: Sequence[int] | None,
           max_units: int) -> list[int]:
    hidden = trace.layers[layer].hidden_size
    if units is not None:
        return [check_choice("unit", u, hidden, "the layer's hidden size") for u in units]
    if layer == len(trace.layers) - 1:
        score = np.abs(trace.head_contributions[row]).sum(axis=0)  # (H,)
        return sorted(int(u) for u in np.argsort(-score, kind="stable")[:max_units])
    return [most_active_unit(trace, layer=layer, row=row)]


def _series_panel(ax: Axes, history: np.ndarray, forecast: np.ndarray, labels: list[str]) -> None:
    n = len(history)
    ax.plot(np.arange(n), history, color=COLOURS["series"], label="input window")
    if forecast.size:
        x = np.arange(n - 1, n + len(forecast))
        ax.plot(x, np.concatenate([history[-1:], forecast]), color=COLOURS["forecast"],
                linestyle="--", marker=".", label="forecast")
        ax.axvline(n - 0.5, color="#999999", linewidth=0.8)
    ax.set_ylabel("series", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    total = n + len(forecast)
    ticks = np.unique(np.linspace(0, total - 1, num=min(total, 6)).round().astype(int))
    ax.set_xticks(ticks)
    ax.set_xticklabels([labels[t] if t < len(labels) else str(t) for t in ticks], fontsize=8)
    ax.set_xlim(-0.5, total - 0.5)
