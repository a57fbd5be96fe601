"""The model the explorer shows, and the answers to each of the page's questions.

An :class:`ExplorerSession` holds one fitted forecaster (and optionally the data it was fitted
on). It validates every request against the model's real sizes, keeps each series' trace once
computed, and returns plain JSON-ready dictionaries built by :mod:`lstmlens.explorer.views`.
Nothing here knows about HTTP: :mod:`lstmlens.explorer.app` turns :class:`ExplorerError` into
``{"detail": ...}`` responses.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstmlens.cell import GATE_ORDER
from lstmlens.data import Panel
from lstmlens.explain.walkthrough import narrate_trace
from lstmlens.explorer import views
from lstmlens.explorer.contract import ForecasterLike, ForecastTraceLike
from lstmlens.explorer.errors import ExplorerError, check_range
from lstmlens.explorer.views import JSON
from lstmlens.explorer.whatif import MAX_EDITS, Edit, WhatIf, what_if
from lstmlens.trace import NetworkTrace

#: Held while the engine runs. Numba's parallel kernels (used by ``predict``, ``fitted_values``
#: and training) must not be launched from two threads at once under every threading layer,
#: and the server answers requests from a thread pool; each run here takes milliseconds.
ENGINE_LOCK = threading.RLock()

#: Interval levels asked of ``predict`` for the series chart.
LEVELS = (80.0, 95.0)
#: The point-forecast column of the forecaster's frames.
MODEL_COLUMN = "LSTM"


class ExplorerSession:
    """A fitted forecaster, ready to be explored.

    Parameters
    ----------
    forecaster : ForecasterLike
        A fitted ``LSTMForecaster`` (or anything with the same members).
    panel : Panel or None
        The data to draw behind the forecast; without it the chart shows the fitted values
        and the last input window.
    source : str
        A short description of where the model came from, shown in the page's header.
    """

    def __init__(
        self, forecaster: ForecasterLike, panel: Panel | None = None, *, source: str = ""
    ) -> None:
        self.forecaster = forecaster
        self.panel = panel
        self.source = source
        self.network = forecaster.network_
        self.series_ids: list[str] = [str(series_id) for series_id in forecaster.ids_]
        self._traces: dict[str, ForecastTraceLike] = {}
        self._frames: dict[str, pd.DataFrame] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ validation
    def check_series(self, series_id: str) -> str:
        """Return ``series_id`` if the model knows it, else raise a 404 :class:`ExplorerError`."""
        if series_id not in self.series_ids:
            shown = ", ".join(repr(known) for known in self.series_ids[:5])
            more = ", ..." if len(self.series_ids) > 5 else ""
            raise ExplorerError(
                f"unknown series {series_id!r}; this model knows {len(self.series_ids)} "
                f"series ({shown}{more}).",
                status=404,
            )
        return series_id

    def check_position(self, trace: NetworkTrace, layer: int, unit: int) -> None:
        """Raise :class:`ExplorerError` unless ``layer`` and ``unit`` exist in ``trace``."""
        layers = len(trace.layers)
        check_range("layer", layer, layers, f"the model has {layers} layer(s)")
        hidden = trace.layers[layer].hidden_size
        check_range("unit", unit, hidden, f"layer {layer} has {hidden} units")

    def check_step(self, trace: NetworkTrace, step: int) -> None:
        """Raise :class:`ExplorerError` unless ``step`` is inside the input window."""
        steps = trace.layers[0].steps
        check_range("step", step, steps, f"the input window has {steps} steps")

    # ------------------------------------------------------------------ cached model calls
    def trace(self, series_id: str) -> ForecastTraceLike:
        """The forecaster's trace of ``series_id``'s last window (computed once)."""
        self.check_series(series_id)
        with self._lock:
            cached = self._traces.get(series_id)
        if cached is None:
            with ENGINE_LOCK:
                cached = self.forecaster.trace(series_id)
            with self._lock:
                self._traces[series_id] = cached
        return cached

    def _frame(self, name: str) -> pd.DataFrame:
        """``predict`` (with intervals when the model has them) or ``fitted_values``, once."""
        with self._lock:
            cached = self._frames.get(name)
        if cached is None:
            with ENGINE_LOCK:
                cached = self._fitted() if name == "fitted" else self._predicted()
            with self._lock:
                self._frames[name] = cached
        return cached

    def _fitted(self) -> pd.DataFrame:
        try:
            return self.forecaster.fitted_values(self.panel)
        except ValueError:  # a loaded model without its data has no fitted values
            return pd.DataFrame()

    def _predicted(self) -> pd.DataFrame:
        try:
            return self.forecaster.predict(levels=list(LEVELS))
        except ValueError:  # no calibrated intervals: the point forecast only
            return self.forecaster.predict()

    # ------------------------------------------------------------------ answers
    def model_view(self) -> JSON:
        """Sizes, series, horizon, features and step labels: what the page needs first."""
        first = self.trace(self.series_ids[0])
        network = self.network
        window = first.network_trace.layers[0].steps
        return {
            "source": self.source,
            "series_ids": self.series_ids,
            "model": {
                "input_size": network.input_size,
                "hidden_size": network.hidden_size,
                "num_layers": network.num_layers,
                "output_size": network.output_size,
                "dtype": str(network.dtype),
                "window": window,
                "horizon": len(first.forecast),
                "ensemble_size": len(getattr(self.forecaster, "networks_", None) or [network]),
            },
            "feature_names": [str(name) for name in first.feature_names],
            "step_labels": views.labels(first.step_labels),
            "gates": list(GATE_ORDER),
            "parameters": {name: list(value.shape) for name, value in network.parameters.items()},
            "max_edits": MAX_EDITS,
        }

    def series_view(self, series_id: str) -> JSON:
        """History, fitted values, forecast with intervals and the input window's place."""
        trace = self.trace(series_id)
        fitted = self._rows(self._frame("fitted"), series_id)
        forecast = self._rows(self._frame("forecast"), series_id)
        time_col = str(getattr(self.forecaster, "time_col", "ds"))
        history_ds, history_y = self._history(series_id, trace)
        return {
            "series_id": series_id,
            "history": {"ds": history_ds, "y": history_y},
            "fitted": {
                "ds": views.labels(fitted[time_col]) if len(fitted) else [],
                "y": views.floats(fitted[MODEL_COLUMN].to_numpy()) if len(fitted) else [],
            },
            "forecast": {
                "ds": views.labels(trace.forecast_index),
                "mean": views.floats(trace.forecast),
                "intervals": _intervals(forecast) if len(forecast) == len(trace.forecast) else [],
            },
            "window": {
                "ds": views.labels(trace.history_index),
                "step_labels": views.labels(trace.step_labels),
                "inputs": [views.floats(row) for row in np.asarray(trace.inputs)],
            },
        }

    def _history(self, series_id: str, trace: ForecastTraceLike) -> tuple[list[str], list[float]]:
        """The whole series when the data is at hand, else the last input window."""
        if self.panel is not None and series_id in self.panel.ids:
            position = self.panel.index_of(series_id)
            return (
                views.labels(self.panel.timestamps[position]),
                views.floats(self.panel.values[position]),
            )
        return views.labels(trace.history_index), views.floats(trace.history)

    def _rows(self, frame: pd.DataFrame, series_id: str) -> pd.DataFrame:
        """The rows of one series in one of the forecaster's long frames."""
        id_col = str(getattr(self.forecaster, "id_col", "unique_id"))
        if id_col not in frame or MODEL_COLUMN not in frame:
            return frame.iloc[0:0]
        return frame[frame[id_col].astype(str) == series_id]

    def timeline_view(self, series_id: str, layer: int, unit: int) -> JSON:
        """Every step's gates and memories of one unit (see :func:`views.timeline_view`)."""
        trace = self.trace(series_id)
        self.check_position(trace.network_trace, layer, unit)
        return self._timeline(trace, trace.network_trace, layer, unit)

    def _timeline(
        self, trace: ForecastTraceLike, network_trace: NetworkTrace, layer: int, unit: int
    ) -> JSON:
        record = network_trace.layers[layer]
        names = _input_names(trace.feature_names, layer, int(record.inputs.shape[2]))
        view = views.timeline_view(record, unit, views.labels(trace.step_labels), names)
        return {"series_id": series_id_of(trace), "layer": layer, "unit": unit, **view}

    def step_view(self, series_id: str, layer: int, unit: int, step: int) -> JSON:
        """Every number of one unit at one step, with the explain package's narration."""
        trace = self.trace(series_id)
        self.check_position(trace.network_trace, layer, unit)
        self.check_step(trace.network_trace, step)
        return self._step(trace, trace.network_trace, self.network.parameters,
                          np.asarray(trace.forecast), layer, unit, step)

    def _step(
        self,
        trace: ForecastTraceLike,
        network_trace: NetworkTrace,
        parameters: Any,
        forecast: np.ndarray[Any, Any],
        layer: int,
        unit: int,
        step: int,
    ) -> JSON:
        record = network_trace.layers[layer]
        names = _input_names(trace.feature_names, layer, int(record.inputs.shape[2]))
        step_labels = views.labels(trace.step_labels)
        view = views.step_view(network_trace, parameters, layer=layer, unit=unit, step=step,
                               input_names=names, forecast=forecast)
        narration = narrate_trace(
            network_trace, layer=layer, time=step, unit=unit, parameters=parameters,
            feature_names=[str(name) for name in trace.feature_names], step_labels=step_labels,
            prediction_original_units=float(forecast[0]),
        )
        view["narration"] = {
            "title": narration.title,
            "text": narration.to_text(),
            "gates": {gate.key: gate.meaning for gate in narration.gates},
            "long_term": narration.long_term.meaning,
            "short_term": narration.short_term.meaning,
            "dense": narration.dense.meaning if narration.dense is not None else None,
        }
        view["series_id"] = series_id_of(trace)
        view["label"] = step_labels[step]
        return view

    def what_if_view(
        self, series_id: str, layer: int, unit: int, step: int, edits: Sequence[Edit]
    ) -> JSON:
        """Apply ``edits`` to copies of the inputs and weights, re-run the engine, report.

        Returns
        -------
        dict
            ``step`` (as :meth:`step_view`), ``trace`` (as :meth:`timeline_view`),
            ``forecast`` (the edited forecast, series units), ``baseline`` (the same
            computation without edits), ``complete`` (False when the network forecasts one
            step of a longer recursive horizon, so only that step is recomputed) and
            ``output`` (the Dense layer's raw output).
        """
        trace = self.trace(series_id)
        self.check_position(trace.network_trace, layer, unit)
        self.check_step(trace.network_trace, step)
        with ENGINE_LOCK:
            result: WhatIf = what_if(trace, self.network, edits)
        return {
            "series_id": series_id,
            "edits": len(edits),
            "step": self._step(trace, result.trace, result.network.parameters, result.forecast,
                               layer, unit, step),
            "trace": self._timeline(trace, result.trace, layer, unit),
            "forecast": {"ds": views.labels(trace.forecast_index)[: len(result.forecast)],
                         "mean": views.floats(result.forecast)},
            # A recursive model's network gives one step; the rest needs the forecaster's loop.
            "complete": len(result.forecast) == len(trace.forecast),
            "baseline": {"mean": views.floats(self._unedited_forecast(trace))},
            "output": views.floats(result.trace.output[0]),
        }


    @staticmethod
    def _unedited_forecast(trace: ForecastTraceLike) -> np.ndarray[Any, Any]:
        """The traced network's own output in series units: what an empty edit list gives.

        Computed exactly as an edited forecast is (``to_original_units`` of the network's
        output), so a what-if's change is only the edit's, not a rounding difference from
        the forecaster's batched prediction path.
        """
        output = trace.network_trace.output[0]
        return np.asarray(trace.to_original_units(output), dtype=np.float64).ravel()


def series_id_of(trace: ForecastTraceLike) -> str:
    """The series id a trace belongs to, as text."""
    return str(trace.series_id)


def _input_names(feature_names: Sequence[str], layer: int, size: int) -> list[str]:
    """Layer 0 reads the model's features; higher layers read the layer below's h."""
    if layer == 0:
        return [str(name) for name in feature_names]
    return [f"h[{j}] of layer {layer - 1}" for j in range(size)]


def _intervals(frame: pd.DataFrame, model_column: str = "LSTM") -> list[JSON]:
    """Every ``<model>-lo-<level>`` / ``<model>-hi-<level>`` pair, widest first."""
    levels = []
    for column in frame.columns:
        prefix = f"{model_column}-lo-"
        if str(column).startswith(prefix):
            level = str(column)[len(prefix):]
            if f"{model_column}-hi-{level}" in frame:
                levels.append(level)
    intervals = [
        {
            "level": float(level),
            "lo": views.floats(frame[f"{model_column}-lo-{level}"].to_numpy()),
            "hi": views.floats(frame[f"{model_column}-hi-{level}"].to_numpy()),
        }
        for level in levels
    ]
    return sorted(intervals, key=lambda interval: -float(interval["level"]))
