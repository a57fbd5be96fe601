"""Explanations read from the engine's trace: narration, summaries, attribution, figures.

Everything here reads what :class:`~lstmlens.network.LSTMNetwork` recorded
(``forward(..., record_trace=True)``); nothing recomputes the LSTM its own way. The seed's
names are used throughout: forget gate (f_t), input gate (i_t, "% to remember"), potential
memory (candidate g_t, the tanh path), output gate (o_t), long-term memory (cell state c_t),
short-term memory (hidden state h_t).

- :mod:`~lstmlens.explain.walkthrough`: the seed's walk-through of any step
  (:func:`narrate_step`, :func:`narrate_trace`); :mod:`~lstmlens.explain.seed_example`:
  the article's own example (:func:`seed_walkthrough`);
- :mod:`~lstmlens.explain.summary`: what the memory holds, per unit, over a window;
- :mod:`~lstmlens.explain.attribution`: which past inputs drove a forecast, and how the
  Dense layer reads the memory;
- :mod:`~lstmlens.explain.forecast`: the same for a forecaster's ``trace(series_id)``;
- :mod:`~lstmlens.explain.figures`: matplotlib pictures (import it only when drawing);
- :mod:`~lstmlens.explain.report`: one self-contained HTML report.
"""

from __future__ import annotations

from lstmlens.explain.attribution import (
    Attribution,
    HeadReading,
    input_attributions,
    read_head,
    trace_attributions,
)
from lstmlens.explain.forecast import explain_forecast, narrate_forecast
from lstmlens.explain.narration import StepNarration
from lstmlens.explain.report import build_report, forecaster_repr_html, write_report
from lstmlens.explain.seed_example import seed_walkthrough
from lstmlens.explain.summary import (
    MemorySummary,
    half_life,
    most_active_unit,
    summarize_layer,
    summarize_trace,
)
from lstmlens.explain.walkthrough import narrate_step, narrate_trace

__all__ = [
    "Attribution",
    "HeadReading",
    "MemorySummary",
    "StepNarration",
    "build_report",
    "explain_forecast",
    "forecaster_repr_html",
    "half_life",
    "input_attributions",
    "most_active_unit",
    "narrate_forecast",
    "narrate_step",
    "narrate_trace",
    "read_head",
    "seed_walkthrough",
    "summarize_layer",
    "summarize_trace",
    "trace_attributions",
    "write_report",
]
