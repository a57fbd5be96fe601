"""The tiny trained model the explorer tests share (fitted once per test session)."""

from __future__ import annotations

import functools

import pandas as pd

from lstmlens.data import Panel, load_panel
from lstmlens.datasets import load_air_passengers
from lstmlens.forecaster import LSTMForecaster

#: Settings of the tiny model: two layers of four units, twelve monthly steps, six ahead.
TINY = {
    "hidden_size": 4,
    "num_layers": 2,
    "input_size": 12,
    "step_length": 1,
    "horizon": 6,
    "max_steps": 30,
    "progress": False,
    "random_state": 0,
}


def air_panel() -> Panel:
    """Monthly airline passengers, and the same series doubled under another id."""
    frame = load_air_passengers()
    doubled = frame.assign(unique_id="Doubled", y=frame["y"] * 2)
    return load_panel(pd.concat([frame, doubled], ignore_index=True))


@functools.cache
def tiny_model() -> tuple[LSTMForecaster, Panel]:
    """A fitted two-layer forecaster and the panel it was fitted on."""
    panel = air_panel()
    return LSTMForecaster(**TINY).fit(panel), panel
