"""From raw series to a :class:`~lstmlens.data.Panel`: sorting, duplicate timestamps,
regularising to the frequency grid, and the missing-value policies (error, interpolate, drop).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmlens.data.base import DataError, FloatArray, MissingPolicy, TimeIndex
from lstmlens.data.calendar import _infer_panel_freq
from lstmlens.data.columns import _RawSeries
from lstmlens.data.panel import Panel


def _assemble(
    raw: list[_RawSeries],
    covariate_names: tuple[str, ...],
    freq: str | None,
    missing: MissingPolicy,
) -> Panel:
    """Sort, check duplicates and gaps, apply the missing policy, build the Panel."""
    for series in raw:
        _sort_and_check_duplicates(series)
    has_dates = isinstance(raw[0].times, pd.DatetimeIndex)
    if has_dates and freq is None:
        freq = _infer_panel_freq(raw)
    cleaned = [_clean(_regularise(s, freq, missing), covariate_names, missing) for s in raw]
    return Panel(
        ids=tuple(s.sid for s in cleaned),
        values=tuple(s.values for s in cleaned),
        timestamps=tuple(_final_index(s.times, freq) for s in cleaned),
        freq=freq,
        covariates=_covariate_tuple(cleaned) if covariate_names else None,
        covariate_names=covariate_names,
    )


def _covariate_tuple(cleaned: list[_RawSeries]) -> tuple[FloatArray, ...]:
    return tuple(
        np.empty((s.values.size, 0)) if s.covariates is None else s.covariates for s in cleaned
    )


def _sort_and_check_duplicates(series: _RawSeries) -> None:
    """Sort a series by time in place (safe) and refuse repeated timestamps."""
    if not series.times.is_monotonic_increasing:
        order = np.argsort(np.asarray(series.times), kind="stable")
        series.times = series.times[order]
        series.values = series.values[order]
        if series.covariates is not None:
            series.covariates = series.covariates[order]
    repeated = series.times.duplicated()
    if repeated.any():
        stamp = series.times[int(np.argmax(repeated))]
        raise DataError(
            f"series {series.sid!r} has the timestamp {stamp} more than once; keep one row "
            "per series and time (aggregate or drop the duplicates)."
        )


def _regularise(series: _RawSeries, freq: str | None, missing: MissingPolicy) -> _RawSeries:
    """Check the timestamps lie on a regular grid; fill gaps with NaN if interpolating."""
    grid = _grid(series.times, freq)
    if len(grid) == len(series.times):
        if not series.times.equals(grid):
            _raise_off_grid(series, grid, freq)
        return series
    on_grid = series.times.isin(grid)
    if not on_grid.all():
        _raise_off_grid(series, grid, freq)
    absent = grid[~grid.isin(series.times)]
    if missing != "interpolate":
        raise DataError(
            f"series {series.sid!r} has {len(absent)} missing timestamp(s) in its regular "
            f"{_freq_words(freq)} spacing, the first at {absent[0]}; pass "
            "missing='interpolate' to fill the gaps linearly, or fill them in the data."
        )
    positions = grid.get_indexer(series.times)
    values = np.full(len(grid), np.nan)
    values[positions] = series.values
    covariates = None
    if series.covariates is not None:
        covariates = np.full((len(grid), series.covariates.shape[1]), np.nan)
        covariates[positions] = series.covariates
    return _RawSeries(series.sid, grid, values, covariates)


def _grid(times: TimeIndex, freq: str | None) -> TimeIndex:
    """The regular index from the first to the last timestamp."""
    if isinstance(times, pd.DatetimeIndex):
        return pd.date_range(times[0], times[-1], freq=freq)
    numbers = np.asarray(times, dtype=np.int64)
    step = int(np.gcd.reduce(np.diff(numbers))) if numbers.size > 1 else 1
    return pd.RangeIndex(int(numbers[0]), int(numbers[-1]) + 1, step)


def _raise_off_grid(series: _RawSeries, grid: TimeIndex, freq: str | None) -> None:
    stray = series.times[~series.times.isin(grid)]
    raise DataError(
        f"series {series.sid!r} has the timestamp {stray[0]}, which is off its regular "
        f"{_freq_words(freq)} spacing starting at {series.times[0]}; check the time column "
        "or pass the right freq=."
    )


def _freq_words(freq: str | None) -> str:
    return f"freq={freq!r}" if freq is not None else "integer"


def _clean(series: _RawSeries, covariate_names: tuple[str, ...], missing: str) -> _RawSeries:
    """Apply the missing-value policy to the target and the covariates."""
    columns = [("target", series.values)]
    if series.covariates is not None:
        columns += [(n, series.covariates[:, k]) for k, n in enumerate(covariate_names)]
    bad = np.zeros(series.values.size, dtype=bool)
    for name, column in columns:
        column_bad = ~np.isfinite(column)
        if column_bad.all():
            raise DataError(
                f"series {series.sid!r} has no finite {name} values; remove the series."
            )
        if column_bad.any() and missing == "error":
            first = int(np.argmax(column_bad))
            raise DataError(
                f"series {series.sid!r} has {int(column_bad.sum())} missing or non-finite "
                f"{name} value(s), the first at {series.times[first]} ({column[first]}); "
                "pass missing='interpolate' to fill them linearly or missing='drop' to "
                "remove those rows, or fix the data."
            )
        bad |= column_bad
    if not bad.any():
        return series
    if missing == "drop":
        keep = ~bad
        covariates = None if series.covariates is None else series.covariates[keep]
        return _RawSeries(series.sid, series.times[keep], series.values[keep], covariates)
    values = _interpolate(series.values)
    covariates = None
    if series.covariates is not None:
        covariates = np.column_stack([_interpolate(c) for c in series.covariates.T])
    return _RawSeries(series.sid, series.times, values, covariates)


def _interpolate(values: FloatArray) -> FloatArray:
    """Linear interpolation over positions; leading/trailing gaps take the nearest value."""
    good = np.isfinite(values)
    positions = np.arange(values.size)
    return np.interp(positions, positions[good], values[good])


def _final_index(times: TimeIndex, freq: str | None) -> TimeIndex:
    """A clean index: DatetimeIndex with its freq when regular, RangeIndex for integers."""
    if isinstance(times, pd.DatetimeIndex):
        if freq is not None and len(times) == len(_grid(times, freq)):
            return pd.DatetimeIndex(times, freq=freq)
        return pd.DatetimeIndex(times)
    if isinstance(times, pd.RangeIndex):
        return times
    numbers = np.asarray(times, dtype=np.int64)
    if numbers.size > 1 and np.all(np.diff(numbers) == numbers[1] - numbers[0]):
        step = int(numbers[1] - numbers[0])
        return pd.RangeIndex(int(numbers[0]), int(numbers[-1]) + step, step)
    if numbers.size == 1:
        return pd.RangeIndex(int(numbers[0]), int(numbers[0]) + 1)
    return pd.Index(numbers)
