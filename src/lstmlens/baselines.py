"""Benchmark forecasts: Naive, SeasonalNaive, Drift and the M4 competition's Naive2.

Every function takes one series as a 1-D NumPy array ``y`` (oldest value first) and returns
the next ``h`` values. The small classes wrap them behind one interface (``.name`` and
``.forecast(y, h)``) so a benchmark loop treats them alike; :func:`forecast_panel` runs one
model over many series.

Naive2 (M4's reference for OWA) in brief, for season ``m`` and ``n`` values:

1. seasonality test: ``r_k`` is the sample autocorrelation at lag ``k``; the series is
   seasonal if ``m > 1``, ``n >= 3 m`` and
   ``|r_m| > 1.645 * sqrt((1 + 2 * sum_{k=1}^{m-1} r_k^2) / n)`` (90% one-sided);
2. if seasonal, classical multiplicative decomposition: trend = centred moving average of
   order ``m`` (``2 x m`` when ``m`` is even), seasonal index of each position in the cycle =
   mean of ``y / trend`` over the cycles, normalised to mean 1;
3. naive forecast of the seasonally adjusted series ``y / index``, multiplied back by the
   index of each future position.

This follows the M4 benchmark code in R, which squares ``r_1`` like every other lag (the
organisers' Python port leaves ``r_1`` unsquared, a known slip they kept for
reproducibility). Multiplicative indices need positive data, so a series with a value
``<= 0`` is treated as not seasonal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: Critical value of the 90% seasonality test used by M4's Naive2.
TCRIT = 1.645

__all__ = [
    "TCRIT",
    "Drift",
    "Forecaster",
    "Naive",
    "Naive2",
    "SeasonalNaive",
    "acf",
    "drift",
    "forecast_panel",
    "is_seasonal",
    "naive",
    "naive2",
    "seasonal_indices",
    "seasonal_naive",
]


class Forecaster(Protocol):
    """What every baseline offers: a display ``name`` and ``forecast(y, h)``."""

    @property
    def name(self) -> str:
        """Column name of this model's forecasts, e.g. ``"SeasonalNaive"``."""
        ...

    def forecast(self, y: ArrayLike, h: int) -> FloatArray:
        """Forecast the ``h`` values after the 1-D series ``y``."""
        ...


# --- validation -----------------------------------------------------------------------------


def _check_series(y: ArrayLike) -> FloatArray:
    """Return ``y`` as a finite, non-empty 1-D float64 array or raise a clear error."""
    values = np.asarray(y, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(
            f"y must be a 1-D series, got shape {values.shape}; "
            "use forecast_panel for several series."
        )
    if values.size == 0:
        raise ValueError("y is empty; a forecast needs at least one observed value.")
    if not np.all(np.isfinite(values)):
        position = int(np.argmax(~np.isfinite(values)))
        raise ValueError(
            f"y contains {values[position]} at position {position}; "
            "fill or drop missing values before forecasting."
        )
    return values


def _check_positive_int(value: int, name: str, hint: str) -> None:
    """Raise unless ``value`` is an integer >= 1 (booleans are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}; {hint}")


def _check_h(h: int) -> None:
    _check_positive_int(h, "h", "h is the number of steps to forecast.")


def _check_season(season: int) -> None:
    _check_positive_int(season, "season", "use season=1 for no seasonality, 24 for hourly data.")


# --- point forecasts --------------------------------------------------------------------------


def naive(y: ArrayLike, h: int) -> FloatArray:
    """Repeat the last observed value ``h`` times."""
    values = _check_series(y)
    _check_h(h)
    return np.full(h, values[-1])


def seasonal_naive(y: ArrayLike, h: int, season: int) -> FloatArray:
    """Repeat the last full season: ``ŷ_{n+k} = y_{n+k-m*ceil(k/m)}``.

    Raises
    ------
    ValueError
        If the series is shorter than one season.
    """
    values = _check_series(y)
    _check_h(h)
    _check_season(season)
    if values.size < season:
        raise ValueError(
            f"seasonal_naive needs at least season={season} values, got {values.size}; "
            "use naive for short series or lower season."
        )
    last_season = values[-season:]
    return np.asarray(last_season[np.arange(h) % season], dtype=np.float64)


def drift(y: ArrayLike, h: int) -> FloatArray:
    """Extend the straight line through the first and last values (naive for one value)."""
    values = _check_series(y)
    _check_h(h)
    last = float(values[-1])
    slope = 0.0 if values.size == 1 else (last - float(values[0])) / (values.size - 1)
    return last + slope * np.arange(1, h + 1, dtype=np.float64)


def acf(y: ArrayLike, lag: int) -> float:
    """Sample autocorrelation at ``lag`` (the M4 code's definition; 0.0 for a constant series).

    ``r_k = sum_{t=k}^{n-1} (y_t - ȳ)(y_{t-k} - ȳ) / sum_t (y_t - ȳ)^2``
    """
    values = _check_series(y)
    centred = values - values.mean()
    denominator = float(np.dot(centred, centred))
    if denominator == 0.0 or lag >= values.size:
        return 0.0
    return float(np.dot(centred[lag:], centred[: values.size - lag])) / denominator


def is_seasonal(y: ArrayLike, season: int) -> bool:
    """M4's 90% autocorrelation test for seasonality at lag ``season`` (see module doc)."""
    values = _check_series(y)
    _check_season(season)
    n = values.size
    if season == 1 or n < 3 * season:
        return False
    squared = sum(acf(values, lag) ** 2 for lag in range(1, season))
    limit = TCRIT * np.sqrt((1.0 + 2.0 * squared) / n)
    return bool(abs(acf(values, season)) > limit)


def _centred_moving_average(values: FloatArray, season: int) -> FloatArray:
    """Centred moving average of order ``season`` (``2 x season`` if even); NaN at the ends."""
    if season % 2 == 0:
        weights = np.r_[0.5, np.ones(season - 1), 0.5] / season
    else:
        weights = np.ones(season) / season
    half = weights.size // 2
    trend = np.full(values.size, np.nan)
    trend[half : values.size - half] = np.convolve(values, weights, mode="valid")
    return trend


def seasonal_indices(y: ArrayLike, season: int) -> FloatArray:
    """Multiplicative seasonal indices of classical decomposition, normalised to mean 1.

    Returns
    -------
    numpy.ndarray, shape (season,)
        Element ``j`` is the index of every position ``t`` with ``t % season == j``.
    """
    values = _check_series(y)
    _check_season(season)
    if values.size < 2 * season:
        raise ValueError(
            f"seasonal_indices needs at least 2 * season = {2 * season} values, "
            f"got {values.size}; lower season or use a longer series."
        )
    ratios = values / _centred_moving_average(values, season)
    padded = np.full(-(-values.size // season) * season, np.nan)
    padded[: values.size] = ratios
    figure = np.nanmean(padded.reshape(-1, season), axis=0)
    return np.asarray(figure / figure.mean())


def naive2(y: ArrayLike, h: int, season: int) -> FloatArray:
    """M4's Naive2: naive forecast of the seasonally adjusted series, reseasonalised.

    Equals :func:`naive` when the series fails the seasonality test (see module doc).
    """
    values = _check_series(y)
    _check_h(h)
    _check_season(season)
    if np.any(values <= 0.0) or not is_seasonal(values, season):
        return naive(values, h)
    indices = seasonal_indices(values, season)
    n = values.size
    adjusted_last = values[-1] / indices[(n - 1) % season]
    future_indices = indices[np.arange(n, n + h) % season]
    return np.asarray(adjusted_last * future_indices)


# --- model objects ----------------------------------------------------------------------------


class Naive:
    """Naive forecaster: the last value, repeated."""

    name = "Naive"

    def forecast(self, y: ArrayLike, h: int) -> FloatArray:
        """Forecast ``h`` steps after ``y``; see :func:`naive`."""
        return naive(y, h)

    def __repr__(self) -> str:
        return "Naive()"


class Drift:
    """Drift forecaster: the line through the first and last values."""

    name = "Drift"

    def forecast(self, y: ArrayLike, h: int) -> FloatArray:
        """Forecast ``h`` steps after ``y``; see :func:`drift`."""
        return drift(y, h)

    def __repr__(self) -> str:
        return "Drift()"


class SeasonalNaive:
    """Seasonal naive forecaster: the last season, repeated.

    Parameters
    ----------
    season : int
        Seasonal period, e.g. 24 for hourly data with a daily cycle.
    """

    name = "SeasonalNaive"

    def __init__(self, season: int) -> None:
        _check_season(season)
        self.season = season

    def forecast(self, y: ArrayLike, h: int) -> FloatArray:
        """Forecast ``h`` steps after ``y``; see :func:`seasonal_naive`."""
        return seasonal_naive(y, h, self.season)

    def __repr__(self) -> str:
        return f"SeasonalNaive(season={self.season})"


class Naive2:
    """M4's Naive2 forecaster (seasonally adjusted naive), the reference of OWA.

    Parameters
    ----------
    season : int
        Seasonal period tested and removed, e.g. 24 for M4 Hourly, 12 for monthly data.
    """

    name = "Naive2"

    def __init__(self, season: int) -> None:
        _check_season(season)
        self.season = season

    def forecast(self, y: ArrayLike, h: int) -> FloatArray:
        """Forecast ``h`` steps after ``y``; see :func:`naive2`."""
        return naive2(y, h, self.season)

    def __repr__(self) -> str:
        return f"Naive2(season={self.season})"


def forecast_panel(model: Forecaster, series: Sequence[ArrayLike], h: int) -> FloatArray:
    """Forecast every series with one model.

    Parameters
    ----------
    model : Forecaster
        Any object with ``forecast(y, h)``, e.g. ``SeasonalNaive(24)``.
    series : sequence of array_like
        One 1-D array per series; lengths may differ.
    h : int
        Forecast horizon.

    Returns
    -------
    numpy.ndarray, shape (n_series, h)
    """
    _check_h(h)
    if len(series) == 0:
        raise ValueError("series is empty; pass at least one 1-D array to forecast.")
    rows = []
    for i, y in enumerate(series):
        try:
            rows.append(model.forecast(y, h))
        except ValueError as error:
            raise ValueError(f"series {i}: {error}") from error
    return np.vstack(rows)
