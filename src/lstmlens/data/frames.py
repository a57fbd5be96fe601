"""Output frames in the statsforecast layout: ``unique_id``, ``ds``, one column per model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lstmlens.data.base import DataError, TimeIndex


def to_long_frame(
    ids: Sequence[str],
    timestamps: Sequence[TimeIndex],
    columns: Mapping[str, ArrayLike],
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
) -> pd.DataFrame:
    """Forecasts as a long frame: ``unique_id``, ``ds``, then one column per entry.

    Parameters
    ----------
    ids : sequence of str
        ``n_series`` ids.
    timestamps : sequence of pandas.Index
        For each series, its ``h`` forecast timestamps.
    columns : mapping of str to array_like of shape (n_series, h)
        e.g. ``{"LSTM": point, "LSTM-lo-80": lo, "LSTM-hi-80": hi}``.
    id_col, time_col : str
        Names of the id and time columns.

    Returns
    -------
    pandas.DataFrame
        ``n_series * h`` rows, series after series, in time order.
    """
    if len(timestamps) != len(ids):
        raise DataError(
            f"to_long_frame got {len(ids)} ids but {len(timestamps)} timestamp indexes; "
            "pass one index of forecast times per series."
        )
    lengths = {len(t) for t in timestamps}
    if len(lengths) > 1:
        raise DataError(f"every series needs the same number of timestamps, got {sorted(lengths)}.")
    h = lengths.pop() if lengths else 0
    frame = pd.DataFrame(
        {
            id_col: np.repeat(np.array(list(ids), dtype=object), h),
            time_col: _concat_indexes(timestamps),
        }
    )
    for name, array in columns.items():
        values = np.asarray(array, dtype=np.float64)
        if values.shape != (len(ids), h):
            raise DataError(
                f"column {name!r} must have shape (n_series, h) = ({len(ids)}, {h}), "
                f"got {values.shape}."
            )
        frame[name] = values.reshape(-1)
    return frame


def _concat_indexes(indexes: Sequence[TimeIndex]) -> Any:
    """Concatenate per-series indexes into one array of dates or integers."""
    if not indexes:
        return np.empty(0, dtype=np.int64)
    if isinstance(indexes[0], pd.DatetimeIndex):
        return pd.DatetimeIndex(np.concatenate([np.asarray(t) for t in indexes]))
    return np.concatenate([np.asarray(t, dtype=np.int64) for t in indexes])
