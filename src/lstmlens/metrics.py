"""Point-forecast accuracy metrics, with the M4 competition's definitions.

Every per-series metric takes ``actual`` and ``forecast`` of the same shape: either one
series ``(h,)`` or a panel ``(n_series, h)``. It returns one value per series with shape
``actual.shape[:-1]``: a 0-d array for a single series (use ``float(...)``) and an ``(n_series,)``
array for a panel. :func:`evaluate_panel` averages them into a dict of plain floats.

Definitions (``y`` actual, ``ŷ`` forecast, ``h`` steps, ``m`` season)::

    MAE   = mean |y - ŷ|
    RMSE  = sqrt(mean (y - ŷ)^2)
    MAPE  = mean 100 |y - ŷ| / |y|
    sMAPE = mean 200 |y - ŷ| / (|y| + |ŷ|)                     (0/0 counts as 0)
    MASE  = mean |y - ŷ| / scale,  scale = mean_t |x_t - x_{t-m}| over the insample x
    OWA   = (mean sMAPE / mean sMAPE_Naive2 + mean MASE / mean MASE_Naive2) / 2
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "evaluate_panel",
    "mae",
    "mape",
    "mase",
    "mase_scale",
    "owa",
    "rmse",
    "smape",
]


def _pair(actual: ArrayLike, forecast: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validate and convert ``actual`` and ``forecast`` to float arrays of one shape."""
    y = np.asarray(actual, dtype=np.float64)
    y_hat = np.asarray(forecast, dtype=np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(
            f"actual must be 1-D (h,) or 2-D (n_series, h), got shape {y.shape}; "
            "reshape it to one row per series."
        )
    if y.shape != y_hat.shape:
        raise ValueError(
            f"actual and forecast must have the same shape, got {y.shape} and {y_hat.shape}; "
            "pass one forecast value per actual value."
        )
    if y.shape[-1] == 0:
        raise ValueError("actual and forecast are empty (h = 0); pass at least one value each.")
    for name, array in (("actual", y), ("forecast", y_hat)):
        if not np.all(np.isfinite(array)):
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
            raise ValueError(
                f"{name} contains a non-finite value ({array[first]}) at index {first}; "
                "metrics need finite numbers: fill or drop missing values first."
            )
    return y, y_hat


def mae(actual: ArrayLike, forecast: ArrayLike) -> FloatArray:
    """Mean absolute error per series.

    Parameters
    ----------
    actual, forecast : array_like, shape (h,) or (n_series, h)
        Observed and forecast values.

    Returns
    -------
    numpy.ndarray
        Shape ``actual.shape[:-1]``: 0-d for one series, ``(n_series,)`` for a panel.
    """
    y, y_hat = _pair(actual, forecast)
    return np.asarray(np.mean(np.abs(y - y_hat), axis=-1))


def rmse(actual: ArrayLike, forecast: ArrayLike) -> FloatArray:
    """Root mean squared error per series (shapes as in :func:`mae`)."""
    y, y_hat = _pair(actual, forecast)
    return np.asarray(np.sqrt(np.mean((y - y_hat) ** 2, axis=-1)))


def mape(actual: ArrayLike, forecast: ArrayLike) -> FloatArray:
    """Mean absolute percentage error per series, in percent (shapes as in :func:`mae`).

    Raises
    ------
    ValueError
        If any actual value is 0, where the percentage error is undefined.
    """
    y, y_hat = _pair(actual, forecast)
    if np.any(y == 0):
        first = tuple(int(i) for i in np.argwhere(y == 0)[0])
        raise ValueError(
            f"MAPE is undefined because actual is 0 at index {first}; "
            "use smape or mase for series that can be zero."
        )
    return np.asarray(np.mean(100.0 * np.abs(y - y_hat) / np.abs(y), axis=-1))


def smape(actual: ArrayLike, forecast: ArrayLike) -> FloatArray:
    """Symmetric MAPE as in M4, in percent (0 to 200; shapes as in :func:`mae`).

    ``200 |y - ŷ| / (|y| + |ŷ|)`` averaged over the horizon; a step where both ``y`` and ``ŷ``
    are 0 is a perfect forecast and counts as 0.
    """
    y, y_hat = _pair(actual, forecast)
    numerator = 200.0 * np.abs(y - y_hat)
    denominator = np.abs(y) + np.abs(y_hat)
    safe = np.where(denominator == 0.0, 1.0, denominator)
    return np.asarray(np.mean(np.where(denominator == 0.0, 0.0, numerator / safe), axis=-1))


def mase_scale(insample: ArrayLike, season: int) -> float:
    """In-sample mean absolute seasonal difference, the MASE denominator.

    Parameters
    ----------
    insample : array_like, shape (T,)
        The history the forecast was made from.
    season : int
        Seasonal period ``m`` (1 for non-seasonal data). If the history has fewer than
        ``m + 1`` values, ``m = 1`` is used instead, as in the M4 code.

    Returns
    -------
    float
        ``mean(|x_t - x_{t-m}|)``; 0.0 for a constant history.
    """
    _check_season(season)
    x = np.asarray(insample, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(
            f"insample must be a 1-D series with at least 2 values, got shape {x.shape}; "
            "MASE scales errors by the in-sample differences, so pass the history."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("insample contains NaN or inf; fill or drop missing values first.")
    lag = season if x.size > season else 1
    return float(np.mean(np.abs(x[lag:] - x[:-lag])))


def mase(
    actual: ArrayLike,
    forecast: ArrayLike,
    insample: ArrayLike | Sequence[ArrayLike],
    season: int,
) -> FloatArray:
    """Mean absolute scaled error per series (M4 definition; shapes as in :func:`mae`).

    Parameters
    ----------
    actual, forecast : array_like, shape (h,) or (n_series, h)
        Observed and forecast values.
    insample : array_like or sequence of array_like
        The history of each series: one 1-D array for a single series, or one 1-D array per
        row of ``actual`` (lengths may differ) for a panel.
    season : int
        Seasonal period ``m`` of the scale, see :func:`mase_scale`.

    Returns
    -------
    numpy.ndarray
        MAE divided by the in-sample scale. When the scale is 0 (a constant history) the
        value is ``inf``, or 0.0 if the forecast is also exact; nothing is raised so one
        constant series does not stop a panel evaluation.
    """
    y, y_hat = _pair(actual, forecast)
    histories = [np.asarray(insample, dtype=np.float64)] if y.ndim == 1 else _rows(insample)
    if len(histories) != (1 if y.ndim == 1 else y.shape[0]):
        raise ValueError(
            f"insample has {len(histories)} series but actual has {y.shape[0]} rows; "
            "pass one history per forecast series, in the same order."
        )
    scales = np.array([mase_scale(x, season) for x in histories]).reshape(y.shape[:-1])
    errors = np.asarray(np.mean(np.abs(y - y_hat), axis=-1))
    safe = np.where(scales == 0.0, 1.0, scales)
    zero_scale = np.where(errors == 0.0, 0.0, np.inf)
    return np.asarray(np.where(scales == 0.0, zero_scale, errors / safe))


def owa(
    smape: ArrayLike,
    mase: ArrayLike,
    smape_naive2: ArrayLike,
    mase_naive2: ArrayLike,
) -> float:
    """Overall weighted average relative to Naive2, as ranked in M4.

    Each argument is a per-series array (or an already averaged scalar); each is averaged
    over all series first, then ``OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``.
    Naive2 scores 1.0 by definition; lower is better.
    """
    means = {
        name: float(np.mean(np.asarray(value, dtype=np.float64)))
        for name, value in (
            ("smape", smape),
            ("mase", mase),
            ("smape_naive2", smape_naive2),
            ("mase_naive2", mase_naive2),
        )
    }
    for name in ("smape_naive2", "mase_naive2"):
        if not means[name] > 0.0:
            raise ValueError(
                f"{name} must average to a positive number to divide by, got {means[name]}; "
                "OWA is undefined when the Naive2 benchmark is perfect."
            )
    relative_smape = means["smape"] / means["smape_naive2"]
    relative_mase = means["mase"] / means["mase_naive2"]
    return 0.5 * (relative_smape + relative_mase)


def evaluate_panel(
    actual: ArrayLike,
    forecast: ArrayLike,
    insample: Sequence[ArrayLike],
    season: int,
    *,
    naive2: ArrayLike | None = None,
) -> dict[str, float]:
    """Mean metrics over a panel of forecasts.

    Parameters
    ----------
    actual, forecast : array_like, shape (n_series, h)
        Observed and forecast values.
    insample : sequence of array_like
        One history per series, for the MASE scale.
    season : int
        Seasonal period for MASE.
    naive2 : array_like, shape (n_series, h), optional
        The Naive2 forecast on the same split; when given, ``"owa"`` is added.

    Returns
    -------
    dict of str to float
        ``"mae"``, ``"rmse"``, ``"smape"``, ``"mase"`` averaged over series, and ``"owa"``
        when ``naive2`` is given.
    """
    y = np.asarray(actual, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(
            f"actual must be 2-D (n_series, h) for a panel, got shape {y.shape}; "
            "use reshape(1, -1) for a single series."
        )
    scores = {
        "mae": mae(y, forecast),
        "rmse": rmse(y, forecast),
        "smape": smape(y, forecast),
        "mase": mase(y, forecast, insample, season),
    }
    result = {name: float(np.mean(values)) for name, values in scores.items()}
    if naive2 is not None:
        result["owa"] = owa(
            scores["smape"],
            scores["mase"],
            smape(y, naive2),
            mase(y, naive2, insample, season),
        )
    return result


def _rows(insample: ArrayLike | Sequence[ArrayLike]) -> list[ArrayLike]:
    """Split a panel's histories into a list of 1-D arrays (ragged lists allowed)."""
    if isinstance(insample, np.ndarray):
        if insample.ndim != 2:
            raise ValueError(
                f"insample for a panel must be 2-D or a list of 1-D arrays, "
                f"got shape {insample.shape}."
            )
        return list(insample)
    if isinstance(insample, Sequence):
        return list(insample)
    raise TypeError(
        f"insample must be a list of 1-D arrays or a 2-D array, got {type(insample).__name__}."
    )


def _check_season(season: int) -> None:
    """Raise if ``season`` is not a positive integer."""
    if isinstance(season, bool) or not isinstance(season, int | np.integer) or season < 1:
        raise ValueError(
            f"season must be a positive integer (1 for no seasonality), got {season!r}; "
            "for hourly data with a daily cycle use season=24."
        )
