"""Reading and validating user data: the only module of lstmlens that touches pandas.

Everything a user hands over (a CSV path, a DataFrame, a Series, a list of numbers) becomes a
:class:`Panel`: one float64 array per series, with its timestamps, checked once here so the
rest of the library works on plain arrays. Accepted layouts:

- **long**: columns ``unique_id``, ``ds``, ``y`` (names overridable); any further numeric
  columns become covariates;
- **wide**: one column per series, with an optional date column (named ``ds``/``time_col``
  or any column of dates) or a DatetimeIndex; empty cells before a series starts or after
  it ends are padding and are dropped;
- **single column** of numbers, with or without a header (series id ``"series_0"`` or the
  column name), a Series, or a 1-D list/array;
- **rows as series** (M4 competition layout): first column the ids, then the values of each
  series along its row, shorter rows padded with empty cells; see :func:`load_m4_wide`.

Problems raise :class:`DataError` with one sentence naming the column, series, value and
row, and what to do about it. Output frames follow statsforecast: ``unique_id``, ``ds``,
then one column per model (``LSTM``, ``LSTM-lo-80``, ...), see :func:`to_long_frame`.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype
from pandas.tseries.frequencies import to_offset

FloatArray = NDArray[np.float64]
TimeIndex: TypeAlias = "pd.Index[Any]"
MissingPolicy = Literal["error", "interpolate", "drop"]
MISSING_POLICIES: tuple[str, ...] = ("error", "interpolate", "drop")
Source: TypeAlias = "str | os.PathLike[str] | pd.DataFrame | pd.Series[Any] | ArrayLike"

#: How many offending series ids an error message lists at most.
MAX_LISTED = 10

__all__ = [
    "MISSING_POLICIES",
    "DataError",
    "Panel",
    "calendar_features",
    "check_min_length",
    "future_timestamps",
    "infer_freq",
    "load_m4_wide",
    "load_panel",
    "to_long_frame",
]


class DataError(ValueError):
    """The user's data cannot be used as given; the message says why and how to fix it."""


# =============================================================================================
# Panel
# =============================================================================================


@dataclass(frozen=True, eq=False)
class Panel:
    """A validated set of time series, ready for windowing.

    Parameters
    ----------
    ids : tuple of str
        Unique series ids, in input order.
    values : tuple of numpy.ndarray
        One float64 1-D array per series, oldest first, finite.
    timestamps : tuple of pandas.Index
        One index per series, as long as its values: a DatetimeIndex, or a RangeIndex (an
        integer index) when the data has no dates.
    freq : str or None
        pandas offset alias (``"h"``, ``"D"``, ``"MS"``...); None when unknown.
    covariates : tuple of numpy.ndarray or None
        Per series a ``(T_i, K)`` float64 array of extra numeric columns, or None.
    covariate_names : tuple of str
        The ``K`` covariate column names.
    """

    ids: tuple[str, ...]
    values: tuple[FloatArray, ...]
    timestamps: tuple[TimeIndex, ...]
    freq: str | None = None
    covariates: tuple[FloatArray, ...] | None = None
    covariate_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_panel_parts(self)

    # --- inspection ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        lengths = self.lengths()
        span = f"{lengths.min()}-{lengths.max()}" if len(self) else "-"
        return (
            f"Panel(n_series={len(self)}, lengths={span}, freq={self.freq!r}, "
            f"covariates={list(self.covariate_names)})"
        )

    def lengths(self) -> NDArray[np.int64]:
        """Number of observations of each series, shape ``(n_series,)``."""
        return np.array([v.size for v in self.values], dtype=np.int64)

    @property
    def has_dates(self) -> bool:
        """True if the timestamps are dates rather than integer positions."""
        return bool(self.timestamps) and isinstance(self.timestamps[0], pd.DatetimeIndex)

    def index_of(self, series_id: str) -> int:
        """Position of ``series_id`` in :attr:`ids`; DataError listing known ids if absent."""
        try:
            return self.ids.index(series_id)
        except ValueError:
            known = ", ".join(repr(i) for i in self.ids[:5])
            more = ", ..." if len(self.ids) > 5 else ""
            raise DataError(
                f"unknown series id {series_id!r}; the panel has {len(self)} series "
                f"({known}{more}). Check the spelling or list them with panel.ids."
            ) from None

    def series(self, series_id: str) -> FloatArray:
        """Values of one series."""
        return self.values[self.index_of(series_id)]

    def constant_ids(self) -> tuple[str, ...]:
        """Ids of series whose values never change (they carry no pattern to learn)."""
        return tuple(i for i, v in zip(self.ids, self.values, strict=True) if np.ptp(v) == 0)

    # --- slicing ------------------------------------------------------------------------

    def subset(self, ids: Iterable[str]) -> Panel:
        """A panel with only the given series, in the given order."""
        positions = [self.index_of(i) for i in ids]
        return self._take(positions, [slice(None)] * len(positions))

    def drop_last(self, n: int) -> Panel:
        """Remove the last ``n`` observations of every series (each must keep at least 1)."""
        _check_int(n, "n", minimum=0)
        if n == 0:
            return self
        check_min_length(self, n + 1, what=f"removing the last {n} values")
        return self._slice_all(lambda length: slice(0, length - n))

    def head_until(self, end: pd.Timestamp | str | int) -> Panel:
        """Keep the observations with timestamp ``<= end`` (a date, or an integer position)."""
        cutoff: Any = pd.Timestamp(end) if self.has_dates else end
        slices = [slice(0, int(np.searchsorted(t, cutoff, side="right"))) for t in self.timestamps]
        empty = [i for i, s in zip(self.ids, slices, strict=True) if s.stop == 0]
        if empty:
            raise DataError(
                f"no observations at or before {end} in series {_listing(empty)}; "
                "choose a later cutoff or remove those series with panel.subset()."
            )
        return self._take(range(len(self)), slices)

    def split_last(self, h: int) -> tuple[Panel, Panel]:
        """Split the last ``h`` values off every series: ``(history, holdout)``."""
        _check_int(h, "h", minimum=1)
        check_min_length(self, h + 1, what=f"holding out the last h={h} values")
        head = self._slice_all(lambda length: slice(0, length - h))
        tail = self._slice_all(lambda length: slice(length - h, length))
        return head, tail

    def future_timestamps(self, h: int) -> tuple[TimeIndex, ...]:
        """The ``h`` timestamps after the end of each series."""
        return tuple(future_timestamps(t, self.freq, h) for t in self.timestamps)

    # --- conversion ---------------------------------------------------------------------

    def to_frame(
        self, *, id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y"
    ) -> pd.DataFrame:
        """The panel as a long data frame (covariates included as extra columns)."""
        frame = pd.DataFrame(
            {
                id_col: np.repeat(np.array(self.ids, dtype=object), self.lengths()),
                time_col: _concat_indexes(self.timestamps),
                target_col: np.concatenate(self.values) if len(self) else np.empty(0),
            }
        )
        if self.covariates is not None:
            stacked = np.concatenate(self.covariates)  # (sum T_i, K)
            for k, name in enumerate(self.covariate_names):
                frame[name] = stacked[:, k]
        return frame

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, ArrayLike] | Sequence[ArrayLike],
        *,
        freq: str | None = None,
    ) -> Panel:
        """Build a panel from 1-D arrays (ids ``series_0``... for a sequence), no dates."""
        named = (
            dict(arrays)
            if isinstance(arrays, Mapping)
            else {f"series_{i}": a for i, a in enumerate(arrays)}
        )
        values = []
        for name, array in named.items():
            if np.ndim(array) != 1:
                raise DataError(
                    f"array {name!r} must be 1-D (one series), got shape {np.shape(array)}."
                )
            values.append(_numeric_column(pd.Series(array), f"array {name!r}", "position"))
            _check_finite_values(str(name), values[-1])
        return cls(
            ids=tuple(str(n) for n in named),
            values=tuple(values),
            timestamps=tuple(pd.RangeIndex(v.size) for v in values),
            freq=None if freq is None else _check_freq(freq),
        )

    # --- helpers ------------------------------------------------------------------------

    def _slice_all(self, make: Any) -> Panel:
        slices = [make(int(n)) for n in self.lengths()]
        return self._take(range(len(self)), slices)

    def _take(self, positions: Iterable[int], slices: Sequence[slice]) -> Panel:
        positions = list(positions)
        covariates = (
            None
            if self.covariates is None
            else tuple(self.covariates[p][s] for p, s in zip(positions, slices, strict=True))
        )
        return dataclasses.replace(
            self,
            ids=tuple(self.ids[p] for p in positions),
            values=tuple(self.values[p][s] for p, s in zip(positions, slices, strict=True)),
            timestamps=tuple(self.timestamps[p][s] for p, s in zip(positions, slices, strict=True)),
            covariates=covariates,
        )


def _check_panel_parts(panel: Panel) -> None:
    """Check that a Panel's parts fit together (internal consistency, not user data)."""
    n = len(panel.ids)
    if len(panel.values) != n or len(panel.timestamps) != n:
        raise DataError(
            f"Panel needs one values array and one timestamp index per id: got {n} ids, "
            f"{len(panel.values)} values and {len(panel.timestamps)} timestamp indexes."
        )
    if len(set(panel.ids)) != n:
        duplicated = sorted({i for i in panel.ids if panel.ids.count(i) > 1})
        raise DataError(f"Panel ids must be unique; repeated: {_listing(duplicated)}.")
    for sid, values, stamps in zip(panel.ids, panel.values, panel.timestamps, strict=True):
        if values.ndim != 1 or values.dtype != np.float64 or values.size != len(stamps):
            raise DataError(
                f"series {sid!r}: values must be a float64 1-D array as long as its "
                f"timestamps, got {values.dtype} shape {values.shape} and {len(stamps)} "
                "timestamps."
            )
    if panel.covariates is not None:
        k = len(panel.covariate_names)
        for sid, cov, values in zip(panel.ids, panel.covariates, panel.values, strict=True):
            if cov.shape != (values.size, k):
                raise DataError(
                    f"series {sid!r}: covariates must have shape ({values.size}, {k}) "
                    f"for {k} covariate names, got {cov.shape}."
                )


def check_min_length(panel: Panel, min_length: int, *, what: str) -> None:
    """Raise DataError if any series has fewer than ``min_length`` observations.

    Parameters
    ----------
    panel : Panel
    min_length : int
        The smallest usable length.
    what : str
        What needs that length, for the message, e.g. ``"input_size + h = 216"``.
    """
    short = [
        f"{sid!r} ({n})"
        for sid, n in zip(panel.ids, panel.lengths(), strict=True)
        if n < min_length
    ]
    if short:
        raise DataError(
            f"{len(short)} of {len(panel)} series have fewer than {min_length} observations, "
            f"the minimum for {what}: {_listing(short, quote=False)}. "
            "Remove them or lower the input size/horizon."
        )


# =============================================================================================
# Loading
# =============================================================================================


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


# --- sources ----------------------------------------------------------------------------------


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


# --- layouts ----------------------------------------------------------------------------------


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


# --- columns ----------------------------------------------------------------------------------


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


# --- assembling a panel -----------------------------------------------------------------------


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


# =============================================================================================
# Frequency and time stamps
# =============================================================================================


def _check_missing(missing: str) -> None:
    if missing not in MISSING_POLICIES:
        raise DataError(
            f"missing must be one of {list(MISSING_POLICIES)}, got {missing!r}; "
            "'error' stops at missing values, 'interpolate' fills them, 'drop' removes them."
        )


def _check_freq(freq: str) -> str:
    """Validate a pandas offset alias and return its canonical spelling."""
    try:
        return str(to_offset(freq).freqstr)
    except (ValueError, TypeError):
        raise DataError(
            f"freq={freq!r} is not a pandas frequency alias; use e.g. 'h' (hourly), 'D' "
            "(daily), 'W' (weekly), 'MS' (month start), 'ME' (month end)."
        ) from None


def _check_int(value: int, name: str, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DataError(f"{name} must be an integer >= {minimum}, got {value!r}.")


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


# =============================================================================================
# Calendar features
# =============================================================================================


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


# =============================================================================================
# Output
# =============================================================================================


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


# =============================================================================================
# Small helpers
# =============================================================================================


def _check_finite_values(sid: str, values: FloatArray) -> None:
    if values.size == 0:
        raise DataError(f"series {sid!r} is empty; pass at least one value.")
    if not np.all(np.isfinite(values)):
        first = int(np.argmax(~np.isfinite(values)))
        raise DataError(
            f"series {sid!r} has a missing or non-finite value at position {first} "
            f"({values[first]}); fill or drop it, or use load_panel(..., missing='interpolate')."
        )


def _listing(items: Sequence[str], *, quote: bool = True) -> str:
    """Up to :data:`MAX_LISTED` items, comma-separated, with a count of the rest."""
    shown = [repr(i) if quote else str(i) for i in items[:MAX_LISTED]]
    rest = len(items) - MAX_LISTED
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")
