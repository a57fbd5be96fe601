"""Explanations read from the engine's trace: narration, summaries, attribution, figures.

Everything here reads what :class:`~lstmlens.network.LSTMNetwork` recorded
(``forward(..., record_trace=True)``); nothing recomputes the LSTM its own way.

- :mod:`~lstmlens.explain.walkthrough`: the seed's walk-through of any step
  (:func:`narrate_step`, :func:`narrate_trace`), :mod:`~lstmlens.explain.seed_example`:
  the article's own example (:func:`seed_walkthrough`);
- :mod:`~lstmlens.explain.summary`: what the memory holds, per unit, over a window;
- :mod:`~lstmlens.explain.attribution`: which past inputs drove a forecast;
- :mod:`~lstmlens.explain.figures`: matplotlib pictures (imported only when used);
- :mod:`~lstmlens.explain.report`: one self-contained HTML report.
"""

from __future__ import annotations

from lstmlens.explain.narration import StepNarration
from lstmlens.explain.seed_example import seed_walkthrough
from lstmlens.explain.summary import MemorySummary, half_life, summarize_layer, summarize_trace
from lstmlens.explain.walkthrough import narrate_step, narrate_trace

__all__ = [
    "MemorySummary",
    "StepNarration",
    "half_life",
    "narrate_step",
    "narrate_trace",
    "seed_walkthrough",
    "summarize_layer",
    "summarize_trace",
]
