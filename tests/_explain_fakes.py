"""A tiny forecaster that honours the ForecastTrace contract, built on a real LSTMNetwork.

It stands in for ``lstmlens.forecaster.LSTMForecaster`` in the explain tests: ``trace()``
returns the documented fields, ``predict(h=, df=)`` forecasts from a long frame, and
``network_`` is the fitted network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmlens.network import LSTMNetwork
from lstmlens.trace import NetworkTrace

WINDOW = 12  # steps of one value each
HORIZON = 4


@dataclass(frozen=True)
class FakeForecastTrace:
    series_id: str
    network_trace: NetworkTrace
    inputs: np.ndarray
    feature_names: list[str]
    step_labels: list[str]
    history: np.ndarray
    history_index: Any
    forecast: np.ndarray
    forecast_index: Any
    level: float

    def to_original_units(self, network_output: np.ndarray) -> np.ndarray:
        return (1.0 + np.asarray(network_output, dtype=np.float64).ravel()) * self.level


def make_data(n_series: int = 2, length: int = 48) -> pd.DataFrame:
    """Monthly seasonal series in long format (unique_id, ds, y)."""
    frames = []
    for k in range(n_series):
        t = np.arange(length)
        y = 100.0 + 10 * k + 5 * np.sin(2 * np.pi * t / 12) + 0.3 * t
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": pd.date_range(
            "2020-01-01", periods=length, freq="MS"), "y": y}))
    return pd.concat(frames, ignore_index=True)


class FakeForecaster:
    id_col, time_col, target_col = "unique_id", "ds", "y"
    horizon = HORIZON
    season_ = 12

    def __init__(self, data: pd.DataFrame, fitted: bool = True) -> None:
        self.data = data
        self.ids_ = list(dict.fromkeys(data["unique_id"]))
        if fitted:
            self.network_ = LSTMNetwork.initialize(2, 4, num_layers=2, output_size=HORIZON,
                                                   random_state=0, dtype=np.float64)

    def _window(self, frame: pd.DataFrame, series_id: str) -> tuple[np.ndarray, float, Any]:
        rows = frame[frame["unique_id"] == series_id]
        if rows.empty:
            raise KeyError(series_id)
        values = rows["y"].to_numpy(dtype=np.float64)[-WINDOW:]
        index = pd.DatetimeIndex(rows["ds"])[-WINDOW:]
        level = float(values.mean())
        month = np.asarray(index.month, dtype=np.float64)
        inputs = np.stack([values / level - 1.0, np.sin(2 * np.pi * month / 12)], axis=1)
        return inputs, level, index

    def trace(self, series_id: str | None = None) -> FakeForecastTrace:
        series_id = series_id or self.ids_[0]
        inputs, level, index = self._window(self.data, series_id)
        result = self.network_.forward(inputs[None], record_trace=True)
        assert result.trace is not None
        future = pd.date_range(index[-1], periods=HORIZON + 1, freq="MS")[1:]
        forecast = (1.0 + result.output[0]) * level
        return FakeForecastTrace(series_id, result.trace, inputs, ["value", "season"],
                                 [str(stamp.date()) for stamp in index],
                                 inputs[:, 0] * level + level, index, forecast, future, level)

    def predict(self, h: int | None = None, df: pd.DataFrame | None = None) -> pd.DataFrame:
        frame = self.data if df is None else df
        out = []
        for series_id in dict.fromkeys(frame["unique_id"]):
            inputs, level, index = self._window(frame, series_id)
            output = self.network_.forward(inputs[None]).output[0]
            future = pd.date_range(index[-1], periods=HORIZON + 1, freq="MS")[1:]
            out.append(pd.DataFrame({"unique_id": series_id, "ds": future,
                                     "LSTM": (1.0 + output) * level}))
        return pd.concat(out, ignore_index=True).groupby("unique_id").head(h or HORIZON)
