"""A tiny model for the explorer tests (temporary stand-in until forecaster.py lands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmlens.data import Panel, load_panel
from lstmlens.datasets import load_air_passengers
from lstmlens.network import LSTMNetwork
from lstmlens.trace import NetworkTrace

WINDOW = 12
HORIZON = 6


@dataclass(frozen=True)
class StandInTrace:
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


class StandInForecaster:
    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.ids_ = list(panel.ids)
        self.network_ = LSTMNetwork.initialize(2, 4, num_layers=2, output_size=HORIZON,
                                               random_state=0, dtype=np.float64)

    def _window(self, series_id: str) -> tuple[np.ndarray, float, Any]:
        position = self.panel.index_of(series_id)
        values = self.panel.values[position][-WINDOW:]
        index = self.panel.timestamps[position][-WINDOW:]
        level = float(values.mean())
        month = np.asarray([stamp.month for stamp in index], dtype=np.float64)
        inputs = np.stack([values / level - 1.0, np.sin(2 * np.pi * month / 12)], axis=1)
        return inputs, level, index

    def trace(self, series_id: str | None = None) -> StandInTrace:
        series_id = series_id or self.ids_[0]
        inputs, level, index = self._window(series_id)
        result = self.network_.forward(inputs[None], record_trace=True)
        assert result.trace is not None
        future = pd.date_range(index[-1], periods=HORIZON + 1, freq="MS")[1:]
        position = self.panel.index_of(series_id)
        return StandInTrace(
            series_id=series_id, network_trace=result.trace, inputs=inputs,
            feature_names=["y (scaled)", "month (sin)"],
            step_labels=[stamp.strftime("%Y-%m") for stamp in index],
            history=self.panel.values[position][-WINDOW:], history_index=index,
            forecast=(1.0 + result.output[0]) * level, forecast_index=future, level=level,
        )

    def predict(self, h: int | None = None, levels: Any = None) -> pd.DataFrame:
        rows = []
        for series_id in self.ids_:
            trace = self.trace(series_id)
            frame = pd.DataFrame({"unique_id": series_id, "ds": trace.forecast_index,
                                  "LSTM": trace.forecast})
            for level in levels or []:
                width = 0.1 * trace.level * (1 + level / 100)
                frame[f"LSTM-lo-{level}"] = trace.forecast - width
                frame[f"LSTM-hi-{level}"] = trace.forecast + width
            rows.append(frame)
        return pd.concat(rows, ignore_index=True)

    def fitted_values(self) -> pd.DataFrame:
        frame = self.panel.to_frame()
        frame["LSTM"] = frame.groupby("unique_id")["y"].shift(1)
        return frame.dropna().reset_index(drop=True)


def air_panel() -> Panel:
    frame = load_air_passengers()
    other = frame.assign(unique_id="Doubled", y=frame["y"] * 2)
    return load_panel(pd.concat([frame, other], ignore_index=True))


def tiny_model() -> tuple[StandInForecaster, Panel]:
    panel = air_panel()
    return StandInForecaster(panel), panel
