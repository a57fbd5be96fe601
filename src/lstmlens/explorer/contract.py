"""What the explorer needs from a fitted forecaster, written as typing protocols.

The explorer reads a model only through these few members, so any object that has them
(``LSTMForecaster`` or a small stand-in in a test) can be explored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd

from lstmlens.cell import FloatArray
from lstmlens.network import LSTMNetwork
from lstmlens.trace import NetworkTrace


class ForecastTraceLike(Protocol):
    """The trace of one series' last input window (see ``LSTMForecaster.trace``)."""

    @property
    def series_id(self) -> str:
        """The series the window belongs to."""

    @property
    def network_trace(self) -> NetworkTrace:
        """Every gate and memory the network computed on the window (batch of 1)."""

    @property
    def inputs(self) -> FloatArray:
        """(T, I): the scaled values the network read, one row per step."""

    @property
    def feature_names(self) -> Sequence[str]:
        """I names, one per input column."""

    @property
    def step_labels(self) -> Sequence[str]:
        """T labels (usually dates), one per step."""

    @property
    def history(self) -> FloatArray:
        """The raw values of the window, in the series' own units."""

    @property
    def history_index(self) -> Any:
        """Dates (or positions) of ``history``."""

    @property
    def forecast(self) -> FloatArray:
        """(h,): the forecast in the series' own units."""

    @property
    def forecast_index(self) -> Any:
        """Dates (or positions) of ``forecast``."""

    def to_original_units(self, network_output: FloatArray) -> FloatArray:
        """Turn the Dense layer's output for this window into a forecast in series units."""


class ForecasterLike(Protocol):
    """A fitted forecaster the explorer can show."""

    @property
    def ids_(self) -> Any:
        """The series ids seen in ``fit``, in order."""

    @property
    def network_(self) -> LSTMNetwork:
        """The fitted network."""

    def trace(self, series_id: str | None = None) -> ForecastTraceLike:
        """Trace the forecast from the last window of ``series_id``."""

    def predict(self, h: int | None = None, levels: Sequence[float] | None = None) -> pd.DataFrame:
        """Forecast every series: long frame ``unique_id, ds, LSTM[, LSTM-lo-80, ...]``."""

    def fitted_values(self, data: Any = None) -> pd.DataFrame:
        """In-sample one-step forecasts of ``data`` (default: the training data), long frame
        ``unique_id, ds, y, LSTM``; a ``ValueError`` when the data is not at hand."""
