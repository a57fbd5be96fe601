"""Raw tables and series as read, and parsing their columns into numbers and times.

Each parser raises :class:`~lstmlens.data.DataError` naming the column, the offending value
and its row (a file line or a frame index label).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from lstmlens.data.base import DataError, FloatArray, TimeIndex


@dataclass(frozen=True)
class _Table:
    """A raw table plus how to name its rows in messages."""

    frame: pd.DataFrame
    origin: str  # "file data.csv" or "the DataFrame"
    row_word: str  # "line" for files (1-based line numbers), "row" for frames (index label)
    first_line: int = 0  # file line number of the frame's first row

    def row(self, position: int) -> str:
        """Human name of the row at 0-based ``position``."""
        if self.row_word == "line":
            return f"line {self.first_line + position}"
        return f"row {self.frame.index[position]!r}"


@dataclass
class _RawSeries:
    """One series as read, before sorting, gap and missing-value handling."""

    sid: str
    times: TimeIndex
    values: FloatArray
    covariates: FloatArray | None  # (T, K)


def _numeric_column(
    column: pd.Series[Any], label: str, table: _Table | str, *, hint: str = ""
) -> FloatArray:
    """Convert a column to float64, or raise naming the first text value and its row."""
    if is_numeric_dtype(column) and not is_bool_dtype(column):
        return np.asarray(column.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna()
    if bad.any():
        position = _first_true(bad)
        where = table.row(position) if isinstance(table, _Table) else f"{table} {position}"
        raise DataError(
            f"{label} contains text {column.iloc[position]!r} at {where}, but the values "
            f"must be numbers; fix or remove that value.{hint}"
        )
    return np.asarray(converted.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _time_column(table: _Table, name: Hashable) -> TimeIndex:
    """Parse a time column as dates, or as integers if it holds whole numbers."""
    column = table.frame[name]
    if column.isna().any():
        raise DataError(
            f"column '{name}' has an empty timestamp at {table.row(_first_true(column.isna()))}; "
            "every row needs a time."
        )
    if is_datetime64_any_dtype(column):
        return pd.DatetimeIndex(column)
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.notna().all():
        whole = np.asarray(numbers, dtype=np.float64)
        if np.all(whole == np.round(whole)):
            return pd.Index(whole.astype(np.int64))
        position = _first_true(pd.Series(whole != np.round(whole)))
        raise DataError(
            f"column '{name}' holds {column.iloc[position]!r} at {table.row(position)}; "
            "times must be dates or whole numbers."
        )
    dates = _to_datetime(column)
    if dates.isna().any():
        position = _first_true(dates.isna())
        raise DataError(
            f"column '{name}' contains {column.iloc[position]!r} at {table.row(position)}, "
            "which is not a date; use dates like 2024-01-31 or 2024-01-31 13:00."
        )
    return pd.DatetimeIndex(dates)


def _find_time_column(frame: pd.DataFrame, time_col: str) -> Hashable | None:
    """The wide format's date column: ``time_col`` if present, else the first date column."""
    if time_col in frame.columns:
        return time_col
    for name in frame.columns:
        column = frame[name]
        if is_datetime64_any_dtype(column):
            return name
        if is_numeric_dtype(column) or column.isna().all():
            continue
        if pd.to_numeric(column, errors="coerce").notna().any():
            continue
        text = column.dropna().astype(str)
        if text.str.contains(r"\d").all() and _to_datetime(text).notna().all():
            return name
    return None


def _to_datetime(column: pd.Series[Any]) -> pd.Series[Any]:
    """``pd.to_datetime`` with unparsable values as NaT and pandas' format chatter muted.

    The fast path parses every value in the format of the first; if that leaves values
    unparsed, each value is parsed on its own (``format="mixed"``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dates = pd.to_datetime(column, errors="coerce")
        if (dates.isna() & column.notna()).any():
            dates = pd.to_datetime(column, errors="coerce", format="mixed")
    return dates


def _first_true(mask: pd.Series[Any]) -> int:
    return int(np.argmax(np.asarray(mask, dtype=bool)))


def _finite_span(values: FloatArray) -> tuple[int, int]:
    """``(start, stop)`` of the stretch between the first and last non-missing value."""
    present = np.flatnonzero(~np.isnan(values))
    if present.size == 0:
        return 0, 0
    return int(present[0]), int(present[-1]) + 1
