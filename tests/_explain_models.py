"""A tiny fitted LSTMForecaster shared by the explain tests (fitted once per process)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from lstmlens.forecaster import LSTMForecaster

HORIZON = 4


def monthly_data(n_series: int = 2, length: int = 60) -> pd.DataFrame:
    """Seasonal monthly series in long format (unique_id, ds, y), all positive."""
    frames = []
    for k in range(n_series):
        t = np.arange(length)
        y = 100.0 + 10 * k + 8 * np.sin(2 * np.pi * t / 12) + 0.5 * t
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "y": y,
                                    "ds": pd.date_range("2015-01-01", periods=length, freq="MS")}))
    return pd.concat(frames, ignore_index=True)[["unique_id", "ds", "y"]]


@lru_cache(maxsize=1)
def tiny_forecaster() -> LSTMForecaster:
    """Two layers of 4 units over 12 monthly steps (1 value + 2 calendar features each).

    Fitted on all but the last ``HORIZON`` values, so the report's tail is out of sample.
    Do not mutate it: it is shared.
    """
    data = monthly_data()
    fit_data = data.groupby("unique_id").head(len(data) // 2 - HORIZON)
    model = LSTMForecaster(horizon=HORIZON, input_size=12, step_length=1, hidden_size=4,
                           num_layers=2, max_steps=20, progress=False, random_state=0)
    return model.fit(fit_data)
