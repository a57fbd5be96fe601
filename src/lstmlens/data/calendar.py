"""Frequencies and calendars: inferring the frequency of dates, the timestamps that follow a
series, and cyclic calendar features."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from lstmlens.data.base import DataError, FloatArray, TimeIndex, _check_freq, _check_int
from lstmlens.data.columns import _RawSeries


def infer_freq(timestamps: pd.DatetimeIndex) -> str | None:
    """pandas offset alias of sorted dates, tolerating gaps; None if it cannot be told.

    Uses :func:`pandas.infer_freq`. When gaps make it fail, candidates come from runs of
    three consecutive dates and, last, from the most common spacing (for fixed-length units
    such as hours or days); a candidate is accepted only if every date lies on its grid.
    """
    if len(timestamps) < 3:
        return None
    found = _pandas_infer_freq(timestamps)
    if found is not None:
        return found
    tried: set[str] = set()
    for start in range(min(len(timestamps) - 2, _MAX_FREQ_WINDOWS)):
        candidate = _pandas_infer_freq(timestamps[start : start + 3])
        if candidate is not None and candidate not in tried:
            tried.add(candidate)
            if _on_grid(timestamps, candidate):
                return candidate
    steps = np.diff(timestamps.values)  # timedelta64, one per gap between dates
    values, counts = np.unique(steps, return_counts=True)
    candidate = _fixed_alias(pd.Timedelta(values[np.argmax(counts)]))
    return candidate if _on_grid(timestamps, candidate) else None


#: How many runs of three dates :func:`infer_freq` tries when gaps hide the frequency.
_MAX_FREQ_WINDOWS = 200


def _on_grid(timestamps: pd.DatetimeIndex, freq: str) -> bool:
    grid = pd.date_range(timestamps[0], timestamps[-1], freq=freq)
    return bool(timestamps.isin(grid).all())


def _fixed_alias(step: pd.Timedelta) -> str:
    """Offset alias of a fixed step: whole days as ``"D"``/``"2D"``, else ``"h"``, ``"15min"``..."""
    if step % pd.Timedelta(days=1) == pd.Timedelta(0):
        days = step // pd.Timedelta(days=1)
        return "D" if days == 1 else f"{days}D"
    return str(to_offset(step).freqstr)


def _pandas_infer_freq(timestamps: pd.DatetimeIndex) -> str | None:
    """``pd.infer_freq`` as a string, without pandas' deprecation warning about its type."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found: Any = pd.infer_freq(timestamps)
    if found is None:
        return None
    return found if isinstance(found, str) else str(found.freqstr)


def _infer_panel_freq(raw: list[_RawSeries]) -> str:
    """The one frequency shared by all series with enough dates to tell."""
    found: dict[str, str] = {}
    for series in raw:
        freq = infer_freq(pd.DatetimeIndex(series.times))
        if freq is not None:
            found.setdefault(freq, series.sid)
    if not found:
        longest = max((len(series.times) for series in raw), default=0)
        if longest < 3:  # pandas needs three dates to tell a frequency
            raise DataError(
                f"could not infer the frequency of the timestamps: the longest series has "
                f"{longest} date(s), and it takes 3; give longer series (a forecast needs "
                "input_size + horizon values of each) or pass freq=, e.g. freq='D' or 'MS'."
            )
        raise DataError(
            "could not infer the frequency of the timestamps (too few dates or irregular "
            "spacing); pass freq=, e.g. freq='h', 'D', 'W' or 'MS'."
        )
    if len(found) > 1:
        listing = ", ".join(f"{f!r} (series {sid!r})" for f, sid in found.items())
        raise DataError(
            f"the series have different frequencies: {listing}; resample them to one "
            "frequency or pass freq= explicitly."
        )
    return next(iter(found))


def future_timestamps(last: TimeIndex | pd.Timestamp | int, freq: str | None, h: int) -> TimeIndex:
    """The ``h`` timestamps that follow ``last``.

    Parameters
    ----------
    last : pandas.Index, pandas.Timestamp or int
        A series' index (its last element and, for integers, its step are used), or the
        last timestamp itself.
    freq : str or None
        Offset alias, needed for dates; ignored for integer positions.
    h : int
        Number of steps.

    Returns
    -------
    pandas.Index
        A DatetimeIndex for dates, a RangeIndex for integer positions.
    """
    _check_int(h, "h", minimum=1)
    step = 1
    end: Any = last
    if isinstance(last, pd.Index):
        if len(last) == 0:
            raise DataError("cannot extend an empty index; the series needs observations.")
        if isinstance(last, pd.RangeIndex):
            step = last.step
        elif not isinstance(last, pd.DatetimeIndex) and len(last) > 1:
            step = int(last[-1] - last[-2])
        end = last[-1]
    if isinstance(end, pd.Timestamp | np.datetime64):
        if freq is None:
            raise DataError(
                "freq is needed to extend dated timestamps; pass freq=, e.g. 'h' or 'MS'."
            )
        offset = to_offset(_check_freq(freq))
        return pd.date_range(pd.Timestamp(end) + offset, periods=h, freq=offset)
    first = int(end) + step
    return pd.RangeIndex(first, first + step * h, step)


def _calendar_parts(freq: str) -> tuple[str, ...]:
    """Which cycles are visible at ``freq``: hour (sub-daily), day of week, month."""
    offset = to_offset(_check_freq(freq))
    code = offset.rule_code.split("-")[0]
    if isinstance(offset, pd.offsets.Tick):
        step = pd.Timedelta(offset)
        if step < pd.Timedelta(days=1):
            return ("hour", "dayofweek", "month")
        return ("dayofweek", "month") if step < pd.Timedelta(days=7) else ("month",)
    if code in {"bh", "cbh"}:
        return ("hour", "dayofweek", "month")
    if code in {"D", "B", "C"}:
        return ("dayofweek", "month")
    if code.startswith(("Y", "BY", "A", "BA")):
        return ()
    return ("month",)


def calendar_features(
    timestamps: pd.DatetimeIndex, freq: str | None = None
) -> tuple[FloatArray, tuple[str, ...]]:
    """Cyclic sin/cos encodings of the calendar at each timestamp.

    Hour of day for sub-daily data, day of week for daily or finer data, month of year for
    anything finer than yearly; each as ``sin(2 pi p / P)`` and ``cos(2 pi p / P)`` so that
    23:00 sits next to 00:00 and December next to January.

    Parameters
    ----------
    timestamps : pandas.DatetimeIndex
        Dates of the rows.
    freq : str, optional
        Offset alias; inferred from ``timestamps`` when omitted.

    Returns
    -------
    features : numpy.ndarray, shape (T, K)
    names : tuple of str
        e.g. ``("hour_sin", "hour_cos", "dayofweek_sin", ...)``; empty for yearly data.
    """
    if not isinstance(timestamps, pd.DatetimeIndex):
        raise DataError(
            "calendar features need dates, but the timestamps are integer positions; "
            "load the data with a date column or do not ask for calendar features."
        )
    if freq is None:
        freq = infer_freq(timestamps)
        if freq is None:
            raise DataError(
                "could not infer the frequency for calendar features; pass freq=, e.g. 'h'."
            )
    columns: list[FloatArray] = []
    names: list[str] = []
    for part in _calendar_parts(freq):
        position, period = _cycle_position(timestamps, part)
        angle = 2.0 * np.pi * position / period
        columns += [np.sin(angle), np.cos(angle)]
        names += [f"{part}_sin", f"{part}_cos"]
    features = np.column_stack(columns) if columns else np.empty((len(timestamps), 0))
    return np.asarray(features, dtype=np.float64), tuple(names)


def _cycle_position(timestamps: pd.DatetimeIndex, part: str) -> tuple[FloatArray, float]:
    """Position within the cycle and the cycle length, for one calendar part."""
    if part == "hour":
        hours = timestamps.hour + timestamps.minute / 60.0 + timestamps.second / 3600.0
        return np.asarray(hours, dtype=np.float64), 24.0
    if part == "dayofweek":
        return np.asarray(timestamps.day_of_week, dtype=np.float64), 7.0
    return np.asarray(timestamps.month - 1, dtype=np.float64), 12.0
