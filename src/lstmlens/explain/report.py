"""One self-contained HTML report of a forecast and what the LSTM's memory did to make it.

The page holds the forecast table and the memory timeline, the accuracy against the naive
baselines on a held-out tail (when data is given), the seed's walk-through of the last step
of the top layer's most active unit with its diagram and activation curves, the memory
summary (half-lives, saturation, writes and erasures), the Dense layer's reading of the
memory, and which inputs drove the forecast. Figures are inlined as base64 PNG; the page
loads nothing from the network and runs no script.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lstmlens.explain._numbers import fixed, label
from lstmlens.explain.accuracy import AccuracyTable, tail_backtest
from lstmlens.explain.attribution import Attribution, read_head
from lstmlens.explain.forecast import (
    ForecastTraceLike,
    fitted_network,
    forecast_attributions,
    forecast_summary,
    forecast_trace,
    narrate_forecast,
)
from lstmlens.explain.narration import StepNarration
from lstmlens.explain.summary import MemorySummary

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 72rem;
       margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: .6rem; white-space: pre-wrap; }
td:first-child { white-space: nowrap; }
img { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
.note { color: #8a4b00; } .muted { color: #666; } nav a { margin-right: 1rem; }
"""


def build_report(
    forecaster: Any,
    data: Any = None,
    *,
    series_id: Any = None,
    season: int | None = None,
    title: str | None = None,
) -> str:
    """Build the HTML report of one series' forecast.

    Parameters
    ----------
    forecaster : LSTMForecaster
        A fitted forecaster.
    data : DataFrame, path or Panel, optional
        Data to score a held-out tail on (its last ``horizon`` values per series); without
        it the accuracy section says how to get one.
    series_id : optional
        The series to explain (default: the forecaster's first).
    season : int, optional
        Seasonal period for the seasonal baselines and MASE (default: the forecaster's).
    title : str, optional
        Page title.

    Returns
    -------
    str
        A complete HTML document with every figure inlined.

    Raises
    ------
    ValueError
        If the forecaster is not fitted or the series is unknown.
    """
    network = fitted_network(forecaster)
    trace = forecast_trace(forecaster, series_id)
    narration = narrate_forecast(trace, parameters=network.parameters)
    summary = forecast_summary(trace)
    attribution = forecast_attributions(network, trace)
    accuracy = tail_backtest(forecaster, data, season=season) if data is not None else None
    heading = title or f"lstmlens report: series {trace.series_id}"
    body = [
        f"<h1>{_esc(heading)}</h1>",
        '<nav><a href="#forecast">Forecast</a><a href="#accuracy">Accuracy</a>'
        '<a href="#walkthrough">Last step</a><a href="#memory">Memory</a>'
        '<a href="#attribution">Inputs</a></nav>',
        _forecast_section(trace),
        _accuracy_section(accuracy),
        _walkthrough_section(narration),
        _memory_section(summary, trace),
        _attribution_section(attribution),
        f'<footer class="muted"><p>Made by lstmlens {_esc(_version())}. Every number above '
        "was read from the trace the engine recorded while forecasting.</p></footer>",
    ]
    return _document(heading, body)


def write_report(forecaster: Any, path: str | os.PathLike[str], data: Any = None, *,
                 overwrite: bool = False, **options: Any) -> Path:
    """Build the report and write it to ``path`` atomically (a temporary file, then a move).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; pass overwrite=True (--force) to "
                              "replace it or choose another path.")
    text = build_report(forecaster, data, **options)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def forecaster_repr_html(forecaster: Any, series_id: Any = None) -> str:
    """A short HTML card for notebooks: the forecast of one series and its memory at a glance.

    Meant for ``LSTMForecaster._repr_html_`` to delegate to. It never raises: an unfitted
    forecaster shows as such, and any error falls back to the escaped ``repr``.
    """
    name = type(forecaster).__name__
    try:
        fitted_network(forecaster)
    except ValueError:
        return f"<div><strong>{_esc(name)}</strong> <em>(not fitted)</em></div>"
    try:
        trace = forecast_trace(forecaster, series_id)
        summary = forecast_summary(trace)
        network = trace.network_trace
        shape = (f"{len(network.layers)} layer(s) of {network.layers[-1].hidden_size} units, "
                 f"{network.output.shape[1]} outputs")
        longest = max(summary.units, key=lambda unit: unit.half_life)
        return "\n".join([
            f"<div><strong>{_esc(name)}</strong> <span class=\"muted\">{_esc(shape)}</span>",
            f"<p>Forecast of series {_esc(str(trace.series_id))}:</p>",
            _forecast_table(trace, limit=12),
            f"<p>Longest memory: unit {longest.unit}, half-life "
            f"{_esc(_half_life(longest.half_life))} steps.</p></div>",
        ])
    except Exception:  # a notebook display must not fail; show the plain repr instead
        return f"<pre>{_esc(repr(forecaster))}</pre>"


# --- sections ------------------------------------------------------------------------------


def _forecast_section(trace: ForecastTraceLike) -> str:
    from lstmlens.explain.figures import memory_timeline

    return "\n".join([
        '<section id="forecast"><h2>Forecast</h2>',
        _forecast_table(trace),
        _figure(memory_timeline(trace), "The input window and the forecast on top; below, "
                "the long-term and short-term memory and the gates of the units that "
                "move the forecast most."),
        "</section>",
    ])


def _forecast_table(trace: ForecastTraceLike, limit: int = 48) -> str:
    index = list(trace.forecast_index)
    values = np.asarray(trace.forecast, dtype=np.float64).reshape(-1)
    rows = [(label(index[k]) if k < len(index) else f"+{k + 1}", fixed(float(values[k]), 3))
            for k in range(min(limit, len(values)))]
    table = _table(("time", "forecast"), rows)
    more = len(values) - len(rows)
    return table + (f'<p class="muted">... and {more} more steps.</p>' if more > 0 else "")


def _accuracy_section(accuracy: AccuracyTable | None) -> str:
    parts = ['<section id="accuracy"><h2>Accuracy on a held-out tail</h2>']
    if accuracy is None:
        parts.append('<p class="muted">No data given: pass the data '
                     "(<code>lstmlens report MODEL DATA</code>) to score the last values of "
                     "each series against the naive baselines.</p>")
    else:
        parts.append(f"<p>{_esc(accuracy.description())}</p>")
        metrics = list(next(iter(accuracy.rows.values())))
        rows = [(model, *(fixed(scores[m], 3) for m in metrics))
                for model, scores in accuracy.rows.items()]
        parts.append(_table(("model", *metrics), rows))
    parts.append("</section>")
    return "\n".join(parts)


def _walkthrough_section(narration: StepNarration) -> str:
    from lstmlens.explain.figures import activation_curves, unit_diagram

    return "\n".join([
        '<section id="walkthrough"><h2>What the last step did</h2>',
        "<p>The seed's walk-through of the top layer's last step, for the unit whose "
        "short-term memory moves the forecast most.</p>",
        _figure(unit_diagram(narration), "One unit, one step, with its real numbers."),
        narration.to_html(),
        _figure(activation_curves(narration), "Where this step's gates sit on the sigmoid "
                "and tanh curves."),
        "</section>",
    ])


def _memory_section(summary: MemorySummary, trace: ForecastTraceLike) -> str:
    rows = []
    for unit in summary.units:
        saturated = {s.gate: s.fraction for s in unit.saturation}
        rows.append((f"unit {unit.unit}", fixed(unit.typical_forget_gate, 3),
                     _half_life(unit.half_life), f"{100 * unit.kept_over_window:.1f}%",
                     *(f"{100 * saturated[g]:.0f}%" for g in ("forget_gate", "input_gate",
                                                             "output_gate", "candidate_memory")),
                     fixed(unit.final_long_term_memory, 3)))
    header = ("unit", "forget gate (typical)", "half-life (steps)", "memory kept over window",
              "forget saturated", "input saturated", "output saturated",
              "potential memory at ±1", "long-term memory at the end")
    return "\n".join([
        '<section id="memory"><h2>What the memory holds</h2>',
        _table(header, rows),
        f"<pre>{_esc(summary.to_text())}</pre>",
        "<h3>How the Dense layer reads the memory</h3>",
        f"<pre>{_esc(read_head(trace.network_trace).to_text())}</pre>",
        "</section>",
    ])


def _attribution_section(attribution: Attribution) -> str:
    from lstmlens.explain.figures import attribution_figure

    return "\n".join([
        '<section id="attribution"><h2>Which inputs drove the forecast</h2>',
        f"<pre>{_esc(attribution.to_text())}</pre>",
        _figure(attribution_figure(attribution), "Gradient × input over the input window."),
        "</section>",
    ])


# --- HTML helpers --------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_esc(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(cell)}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(fig: Any, caption: str) -> str:
    from lstmlens.explain.figures import figure_bytes

    encoded = base64.b64encode(figure_bytes(fig, "png")).decode("ascii")
    return (f'<figure><img alt="{_esc(caption)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption class=\"muted\">{_esc(caption)}</figcaption></figure>")


def _half_life(value: float) -> str:
    return "∞" if not np.isfinite(value) else f"{value:.1f}"


def _document(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        *body, "</body>", "</html>", "",
    ])


def _version() -> str:
    from lstmlens import __version__

    return __version__
