"""Reading user data: sources (CSV files, frames, Series, arrays) and layout detection.

:func:`load_panel` and :func:`load_m4_wide` turn a source into raw series (long, wide,
single-column or rows-as-series layout, see :mod:`lstmlens.data`), then hand them to
:mod:`lstmlens.data.cleaning` to become a :class:`~lstmlens.data.Panel`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pandas.api.types import is_numeric_dtype

from lstmlens.data.base import (
    DataError,
    MissingPolicy,
    Source,
    TimeIndex,
    _check_freq,
    _check_missing,
)
from lstmlens.data.cleaning import _assemble
from lstmlens.data.columns import (
    _find_time_column,
    _finite_span,
    _first_true,
    _numeric_column,
    _RawSeries,
    _Table,
    _time_column,
    _to_datetime,
)
from lstmlens.data.panel import Panel


def load_panel(
    source: Source,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    freq: str | None = None,
    missing: MissingPolicy = "error",
) -> Panel:
    """Read and validate time series from a CSV file, a frame, a Series or a list of numbers.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame, pandas.Series or array_like
        A CSV path, or the data itself; the layout is detected (see module docstring). A
        frame is in long format when it has ``id_col`` (or when ``id_col`` is customised).
    id_col, time_col, target_col : str
        Column names of the long format. ``time_col`` also names the date column of the
        wide format.
    freq : str, optional
        pandas offset alias of the timestamps (``"h"``, ``"D"``, ``"MS"``...). Inferred from
        the dates when omitted.
    missing : {"error", "interpolate", "drop"}
        What to do with missing or non-finite values and with gaps in the timestamps:
        raise (default), fill linearly (edges take the nearest value), or remove the rows
        with missing values (gaps in the timestamps are still an error).

    Returns
    -------
    Panel
        Series sorted by time; ids in order of first appearance.

    Raises
    ------
    DataError
        For a missing or empty file, missing columns, text among the numbers, duplicated
        timestamps, gaps, missing values (with ``missing="error"``) and similar problems.
    """
    _check_missing(missing)
    checked_freq = None if freq is None else _check_freq(freq)
    table = _as_table(source)
    columns = [str(c) for c in table.frame.columns]
    if id_col in columns or id_col != "unique_id":
        raw = _long_series(table, id_col, time_col, target_col)
        names = [c for c in columns if c not in (id_col, time_col, target_col)]
        return _assemble(raw, tuple(names), checked_freq, missing)
    raw = _wide_series(table, time_col, id_col, target_col)
    return _assemble(raw, (), checked_freq, missing)


def load_m4_wide(
    path: str | os.PathLike[str],
    *,
    freq: str | None = "h",
    missing: MissingPolicy = "error",
) -> Panel:
    """Read a file in the M4 competition's layout: one series per row.

    The first column holds the ids (``H1``, ``H2``...), the other columns the values in
    time order; shorter series are padded with empty cells at the end, which are dropped.
    A header row (``"V1","V2",...``) is optional.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file, e.g. ``Hourly-train.csv``.
    freq : str or None, default "h"
        Sampling frequency, stored on the panel. M4 has no dates, so the timestamps are
        integer positions (a RangeIndex from 0).
    missing : {"error", "interpolate", "drop"}
        Policy for empty cells inside a series (padding at the end is never an error).

    Returns
    -------
    Panel
    """
    _check_missing(missing)
    checked_freq = None if freq is None else _check_freq(freq)
    table = _read_csv(path)
    return _assemble(_row_series(table), (), checked_freq, missing)


def _as_table(source: Source) -> _Table:
    """Turn any accepted source into a :class:`_Table`."""
    if isinstance(source, str | os.PathLike):
        return _read_csv(source)
    if isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, pd.Series):
        name = "series_0" if source.name is None else str(source.name)
        frame = source.to_frame(name=name)
    else:
        frame = _array_frame(source)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError(
            f"the data is empty (shape {frame.shape}); pass at least one series with values."
        )
    if not frame.columns.is_unique:
        repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise DataError(f"column names must be unique, repeated: {repeated}; rename them.")
    return _Table(frame=frame, origin="the data", row_word="row")


def _array_frame(source: ArrayLike) -> pd.DataFrame:
    """A single-series frame from a 1-D list or array of numbers."""
    array = np.asarray(source)
    if array.ndim != 1:
        raise DataError(
            f"an array source must be 1-D (one series), got shape {array.shape}; "
            "for several series pass a DataFrame in long or wide format."
        )
    return pd.DataFrame({"series_0": array}).rename_axis("position")


def _read_csv(path: str | os.PathLike[str]) -> _Table:
    """Read a CSV as text cells, detecting whether the first row is a header."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"file not found: {file}; check the path and the working directory.")
    try:
        raw = pd.read_csv(file, header=None, dtype=str, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"file {file} is empty; it needs at least one column of numbers.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"file {file} is not a readable CSV file: {error}") from None
    header = _is_header(raw.iloc[0].tolist())
    if header:
        names = [f"column_{i}" if pd.isna(c) else str(c).strip() for i, c in enumerate(raw.iloc[0])]
        frame = raw.iloc[1:].reset_index(drop=True)
        frame.columns = pd.Index(names)
    else:
        frame = raw
        frame.columns = pd.Index(
            ["series_0"] if raw.shape[1] == 1 else [f"series_{i}" for i in range(raw.shape[1])]
        )
    if frame.shape[0] == 0:
        raise DataError(f"file {file} has a header but no data rows; add the values.")
    if not frame.columns.is_unique:
        repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise DataError(f"file {file} repeats column names {repeated}; rename them.")
    return _Table(frame=frame, origin=f"file {file}", row_word="line", first_line=2 - (not header))


def _is_header(cells: list[Any]) -> bool:
    """A first row is a header unless every cell is empty, a number or a date."""
    return not all(pd.isna(c) or _is_number(c) or _is_date(c) for c in cells)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_date(text: str) -> bool:
    if not any(ch.isdigit() for ch in text):
        return False
    return bool(_to_datetime(pd.Series([text])).notna().all())


def _long_series(table: _Table, id_col: str, time_col: str, target_col: str) -> list[_RawSeries]:
    """Split a long table into raw series (ids in order of first appearance)."""
    frame = table.frame
    missing_cols = [c for c in (id_col, time_col, target_col) if c not in frame.columns]
    if missing_cols:
        raise DataError(
            f"{table.origin} is missing the column(s) {missing_cols} of the long format "
            f"(columns found: {', '.join(map(str, frame.columns))}); pass id_col=, "
            "time_col= and target_col= with the names your data uses."
        )
    ids = frame[id_col]
    if ids.isna().any():
        raise DataError(
            f"column '{id_col}' has an empty series id at {table.row(_first_true(ids.isna()))}; "
            "every row needs an id."
        )
    times = _time_column(table, time_col)
    values = _numeric_column(frame[target_col], f"column '{target_col}'", table)
    extra = [c for c in frame.columns if c not in (id_col, time_col, target_col)]
    covariates = (
        np.column_stack([_numeric_column(frame[c], f"column '{c}'", table) for c in extra])
        if extra
        else None
    )
    codes, uniques = pd.factorize(ids.astype(str), sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    result = []
    for k, sid in enumerate(uniques):
        rows = order[bounds[k] : bounds[k + 1]]
        result.append(
            _RawSeries(
                sid=str(sid),
                times=times[rows],
                values=values[rows],
                covariates=None if covariates is None else covariates[rows],
            )
        )
    return result


def _wide_series(table: _Table, time_col: str, id_col: str, target_col: str) -> list[_RawSeries]:
    """One series per column, sharing a date column, a DatetimeIndex, or positions."""
    frame = table.frame
    time_name = _find_time_column(frame, time_col)
    if time_name is not None:
        times: TimeIndex = _time_column(table, time_name)
        series_cols = [c for c in frame.columns if c != time_name]
    elif isinstance(frame.index, pd.DatetimeIndex):
        times = pd.DatetimeIndex(frame.index)
        series_cols = list(frame.columns)
    else:
        times = pd.RangeIndex(frame.shape[0])
        series_cols = list(frame.columns)
        if _looks_like_row_layout(frame):
            return _row_series(table)
    if not series_cols:
        raise DataError(
            f"{table.origin} has only the time column '{time_name}' and no values; "
            "add a column of numbers."
        )
    result = []
    for col in series_cols:
        values = _numeric_column(
            frame[col], f"column '{col}'", table, hint=_long_hint(frame, id_col, target_col)
        )
        start, stop = _finite_span(values)
        if start == stop:
            raise DataError(
                f"column '{col}' of {table.origin} has no numbers; remove it or fill it in."
            )
        result.append(_RawSeries(str(col), times[start:stop], values[start:stop], covariates=None))
    return result


def _row_series(table: _Table) -> list[_RawSeries]:
    """One series per row: first column ids, then values, trailing padding dropped."""
    frame = table.frame
    if frame.shape[1] < 2:
        raise DataError(
            f"{table.origin} has {frame.shape[1]} column; the one-series-per-row layout needs "
            "an id column followed by the values."
        )
    id_name = frame.columns[0]
    ids = frame[id_name]
    if ids.isna().any():
        raise DataError(
            f"{table.origin} has an empty series id at {table.row(_first_true(ids.isna()))}; "
            "every row needs an id in the first column."
        )
    matrix = np.column_stack(
        [_numeric_column(frame[c], f"column '{c}'", table) for c in frame.columns[1:]]
    )  # (n_series, max_length)
    result = []
    for position, (sid, row) in enumerate(zip(ids.astype(str), matrix, strict=True)):
        start, stop = _finite_span(row)
        if start == stop:
            raise DataError(
                f"series {sid!r} ({table.row(position)}) has no values; remove the row."
            )
        result.append(_RawSeries(sid, pd.RangeIndex(start, stop), row[start:stop], covariates=None))
    return result


def _looks_like_row_layout(frame: pd.DataFrame) -> bool:
    """True when the first column holds unique text ids and the others numbers."""
    if frame.shape[1] < 2:
        return False
    first = frame.iloc[:, 0]
    if is_numeric_dtype(first) or first.isna().any() or not first.is_unique:
        return False
    if pd.to_numeric(first, errors="coerce").notna().any():
        return False
    rest = frame.iloc[:, 1:]
    return all(
        is_numeric_dtype(rest[c])
        or bool((pd.to_numeric(rest[c], errors="coerce").notna() | rest[c].isna()).all())
        for c in rest.columns
    )


def _long_hint(frame: pd.DataFrame, id_col: str, target_col: str) -> str:
    return (
        f" If this is a long-format table, name its columns with id_col=, time_col= and "
        f"target_col= (now {id_col!r}, {target_col!r}; columns found: "
        f"{', '.join(map(str, frame.columns))})."
    )
