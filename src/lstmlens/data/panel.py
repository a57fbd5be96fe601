"""The validated :class:`Panel` of time series, and the length check on it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from lstmlens.data.base import (
    DataError,
    FloatArray,
    TimeIndex,
    _check_finite_values,
    _check_freq,
    _check_int,
    _listing,
)
from lstmlens.data.calendar import future_timestamps
from lstmlens.data.columns import _numeric_column
from lstmlens.data.frames import _concat_indexes


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
