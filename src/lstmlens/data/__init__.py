"""Reading and validating user data: the only package of lstmlens that touches pandas.

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

Modules: :mod:`~lstmlens.data.panel` (:class:`Panel`, :func:`check_min_length`),
:mod:`~lstmlens.data.readers` (:func:`load_panel`, :func:`load_m4_wide`, layout detection),
:mod:`~lstmlens.data.columns` (parsing raw columns), :mod:`~lstmlens.data.cleaning` (sorting,
gaps, missing values), :mod:`~lstmlens.data.calendar` (:func:`infer_freq`,
:func:`future_timestamps`, :func:`calendar_features`), :mod:`~lstmlens.data.frames`
(:func:`to_long_frame`) and :mod:`~lstmlens.data.base` (:class:`DataError`, shared types).
"""

from __future__ import annotations

from lstmlens.data.base import MAX_LISTED as MAX_LISTED
from lstmlens.data.base import MISSING_POLICIES, DataError
from lstmlens.data.base import FloatArray as FloatArray
from lstmlens.data.base import MissingPolicy as MissingPolicy
from lstmlens.data.base import Source as Source
from lstmlens.data.base import TimeIndex as TimeIndex
from lstmlens.data.calendar import calendar_features, future_timestamps, infer_freq
from lstmlens.data.frames import to_long_frame
from lstmlens.data.panel import Panel, check_min_length
from lstmlens.data.readers import load_m4_wide, load_panel

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
