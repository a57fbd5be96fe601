"""Score a backtest: LSTM against SeasonalNaive and Naive2 on the same forecast windows.

``LSTMForecaster.backtest`` returns the LSTM's forecasts from ``n_windows`` cutoffs per
series; this module forecasts the same windows with the baselines of
:mod:`lstmlens.baselines` and averages :mod:`lstmlens.metrics` over all windows (each window
is one row of the metric panel, its history up to the cutoff is the MASE in-sample data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

    from lstmlens.data import Panel

__all__ = ["BacktestWindows", "collect_windows", "score_windows"]

FloatArray = NDArray[np.float64]
MODEL = "LSTM"


@dataclass
class BacktestWindows:
    """Every (series, cutoff) window of a backtest, one row per window.

    Attributes
    ----------
    keys : list of (str, object)
        ``(series id, cutoff timestamp)`` of each window.
    histories : list of numpy.ndarray
        The values up to and including the cutoff.
    actual : numpy.ndarray, shape (n_windows_total, h)
    forecasts : dict of str to numpy.ndarray, each (n_windows_total, h)
        Forecasts by model name (``LSTM``, ``SeasonalNaive``, ``Naive2``).
    """

    keys: list[tuple[str, Any]] = field(default_factory=list)
    histories: list[FloatArray] = field(default_factory=list)
    actual: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    forecasts: dict[str, FloatArray] = field(default_factory=dict)


def collect_windows(
    panel: Panel, backtest: pd.DataFrame, *, id_col: str, h: int, step: int, season: int
) -> BacktestWindows:
    """Line up the LSTM backtest with baseline forecasts of the same windows.

    Parameters
    ----------
    panel : Panel
        The full data the backtest ran on.
    backtest : pandas.DataFrame
        ``LSTMForecaster.backtest`` output: ``id_col``, time, ``cutoff``, ``y``, ``LSTM``.
    id_col : str
        Name of the id column of ``backtest``.
    h, step : int
        Horizon of each forecast and spacing of the cutoffs.
    season : int
        Seasonal period of SeasonalNaive, Naive2 and the MASE scale.
    """
    from lstmlens.baselines import Naive2, SeasonalNaive

    lstm = _lstm_by_window(backtest, id_col)
    n_windows = len(lstm) // max(len(panel), 1)
    windows = BacktestWindows()
    rows: dict[str, list[FloatArray]] = {MODEL: [], "SeasonalNaive": [], "Naive2": []}
    actual = []
    baselines = (SeasonalNaive(season), Naive2(season))
    for k in reversed(range(n_windows)):  # earliest cutoff first, as backtest orders them
        head = panel.drop_last(h + k * step)
        for i, series_id in enumerate(panel.ids):
            history = head.values[i]
            key = (str(series_id), head.timestamps[i][-1])
            windows.keys.append(key)
            windows.histories.append(history)
            actual.append(panel.values[i][history.size : history.size + h])
            rows[MODEL].append(lstm[key])
            for model in baselines:
                rows[model.name].append(model.forecast(history, h))
    windows.actual = np.vstack(actual)
    windows.forecasts = {name: np.vstack(values) for name, values in rows.items()}
    return windows


def _lstm_by_window(backtest: pd.DataFrame, id_col: str) -> dict[tuple[str, Any], FloatArray]:
    """The LSTM forecasts of each ``(series id, cutoff)`` window, in time order."""
    ordered = backtest.sort_values([id_col, "cutoff", backtest.columns[1]])
    return {
        (str(series_id), cutoff): group[MODEL].to_numpy(dtype=np.float64)
        for (series_id, cutoff), group in ordered.groupby([id_col, "cutoff"], sort=False)
    }


def score_windows(windows: BacktestWindows, season: int) -> dict[str, dict[str, float]]:
    """MAE, RMSE, sMAPE, MASE and OWA of every model, averaged over all windows."""
    from lstmlens.metrics import evaluate_panel

    naive2 = windows.forecasts["Naive2"]
    labels = {"mae": "MAE", "rmse": "RMSE", "smape": "sMAPE", "mase": "MASE", "owa": "OWA"}
    scores = {}
    for name, forecast in windows.forecasts.items():
        result = evaluate_panel(
            windows.actual, forecast, windows.histories, season, naive2=naive2
        )
        scores[name] = {labels[key]: value for key, value in result.items()}
    return scores


def with_baselines(backtest: pd.DataFrame, windows: BacktestWindows, id_col: str) -> pd.DataFrame:
    """The backtest frame with ``SeasonalNaive`` and ``Naive2`` columns added."""
    frame = backtest.sort_values([id_col, "cutoff", backtest.columns[1]]).reset_index(drop=True)
    position = {key: row for row, key in enumerate(windows.keys)}
    rows = [position[(str(sid), cutoff)] for sid, cutoff in zip(frame[id_col], frame["cutoff"],
                                                                 strict=True)]
    step = frame.groupby([id_col, "cutoff"], sort=False).cumcount().to_numpy()
    for name in ("SeasonalNaive", "Naive2"):
        frame[name] = windows.forecasts[name][rows, step]
    return frame
