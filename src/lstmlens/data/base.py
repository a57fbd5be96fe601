"""Foundations of :mod:`lstmlens.data`: :class:`DataError`, shared type aliases, and the
small argument checks and message helpers that every other data module uses."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pandas.tseries.frequencies import to_offset

FloatArray = NDArray[np.float64]
TimeIndex: TypeAlias = "pd.Index[Any]"
MissingPolicy = Literal["error", "interpolate", "drop"]
MISSING_POLICIES: tuple[str, ...] = ("error", "interpolate", "drop")
Source: TypeAlias = "str | os.PathLike[str] | pd.DataFrame | pd.Series[Any] | ArrayLike"

#: How many offending series ids an error message lists at most.
MAX_LISTED = 10


class DataError(ValueError):
    """The user's data cannot be used as given; the message says why and how to fix it."""


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
