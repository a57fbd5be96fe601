"""Split-conformal prediction intervals, one width per horizon step.

The forecaster makes forecasts on calibration windows it did not train on and passes the
errors ``actual - forecast`` to :meth:`ConformalIntervals.fit`, an array of shape
``(n_windows, h)``. For a level ``L`` percent and horizon step ``j`` the half-width is the
finite-sample conformal quantile of the absolute errors of that step::

    k     = ceil((n + 1) * L / 100)          rank, n = number of calibration windows
    q_j   = k-th smallest |error[:, j]|
    lo/hi = forecast[:, j] -/+ q_j * scale

If the calibration errors and a new error are exchangeable, the interval covers the new
actual value with probability at least ``L`` percent. ``k <= n`` is required, so a level
needs ``n >= L / (100 - L)`` windows: 4 for 80%, 19 for 95%, 99 for 99%.

``scale`` lets the errors live in relative units: divide each window's error by that
window's level (e.g. the mean of its input) before :meth:`fit`, and pass each series' level
as ``scale`` to :meth:`interval`; the widths are multiplied back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = ["ConformalIntervals", "required_windows"]


def required_windows(level: float) -> int:
    """Smallest number of calibration windows that supports ``level`` percent.

    It is the smallest ``n`` with ``ceil((n + 1) * level / 100) <= n``.
    """
    _check_level(level)
    n = 1
    while math.ceil((n + 1) * level / 100.0) > n:
        n += 1
    return n


def _check_level(level: float) -> None:
    """Raise unless ``level`` is a number strictly between 0 and 100."""
    if (
        isinstance(level, bool)
        or not isinstance(level, int | float | np.integer | np.floating)
        or not 0.0 < float(level) < 100.0
    ):
        raise ValueError(
            f"level must be a percentage strictly between 0 and 100, got {level!r}; "
            "use e.g. levels=(80, 95)."
        )


class ConformalIntervals:
    """Symmetric split-conformal intervals per horizon step.

    Attributes
    ----------
    abs_residuals_ : numpy.ndarray, shape (n_windows, h)
        Sorted (per column) absolute calibration errors; set by :meth:`fit`.
    """

    abs_residuals_: FloatArray

    def fit(self, residuals: ArrayLike) -> ConformalIntervals:
        """Store the calibration errors.

        Parameters
        ----------
        residuals : array_like, shape (n_windows, h)
            ``actual - forecast`` on calibration windows, one row per window, possibly
            already divided by a per-window scale.

        Returns
        -------
        ConformalIntervals
            ``self``.
        """
        errors = np.asarray(residuals, dtype=np.float64)
        if errors.ndim != 2 or errors.shape[0] == 0 or errors.shape[1] == 0:
            raise ValueError(
                f"residuals must be a non-empty 2-D array (n_windows, h), got shape "
                f"{errors.shape}; stack one row of errors per calibration window."
            )
        if not np.all(np.isfinite(errors)):
            row, col = (int(i) for i in np.argwhere(~np.isfinite(errors))[0])
            raise ValueError(
                f"residuals contain {errors[row, col]} at window {row}, step {col}; "
                "calibration errors must be finite, drop the windows that produced them."
            )
        self.abs_residuals_ = np.sort(np.abs(errors), axis=0)
        return self

    @property
    def n_windows(self) -> int:
        """Number of calibration windows."""
        return int(self._fitted().shape[0])

    @property
    def horizon(self) -> int:
        """Number of horizon steps ``h`` the intervals were calibrated for."""
        return int(self._fitted().shape[1])

    def half_width(self, level: float) -> FloatArray:
        """Conformal quantile ``q_j`` of the absolute errors for each step, shape ``(h,)``."""
        _check_level(level)
        sorted_errors = self._fitted()
        n = sorted_errors.shape[0]
        rank = math.ceil((n + 1) * float(level) / 100.0)
        if rank > n:
            raise ValueError(
                f"level {level} needs at least {required_windows(level)} calibration "
                f"windows, but only {n} were given; use more calibration windows or a "
                "lower level."
            )
        return np.asarray(sorted_errors[rank - 1])

    def interval(
        self,
        point_forecast: ArrayLike,
        levels: Iterable[float] = (80, 95),
        scale: ArrayLike | None = None,
    ) -> dict[float, tuple[FloatArray, FloatArray]]:
        """Lower and upper bounds around point forecasts.

        Parameters
        ----------
        point_forecast : array_like, shape (n_series, h) or (h,)
            The forecasts to put intervals around.
        levels : iterable of float
            Coverage levels in percent, each in (0, 100).
        scale : array_like, shape (n_series,), optional
            Per-series multiplier of the half-widths (errors were fitted in scaled units).

        Returns
        -------
        dict
            ``{level: (lo, hi)}``, each bound shaped like ``point_forecast``.
        """
        forecast = self._check_forecast(point_forecast)
        multiplier = self._check_scale(scale, forecast)
        result: dict[float, tuple[FloatArray, FloatArray]] = {}
        for level in levels:
            width = self.half_width(level) * multiplier  # (n_series, h) or (h,)
            result[level] = (forecast - width, forecast + width)
        return result

    def to_state(self) -> dict[str, Any]:
        """Plain JSON-friendly state: ``{"abs_residuals": [[...], ...]}``."""
        return {"abs_residuals": self._fitted().tolist()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ConformalIntervals:
        """Rebuild from :meth:`to_state` output."""
        if "abs_residuals" not in state:
            raise ValueError(
                f"state has no 'abs_residuals' entry (keys: {sorted(state)}); "
                "pass the dict returned by ConformalIntervals.to_state()."
            )
        return cls().fit(state["abs_residuals"])

    def __repr__(self) -> str:
        if not hasattr(self, "abs_residuals_"):
            return "ConformalIntervals()"
        return f"ConformalIntervals(n_windows={self.n_windows}, horizon={self.horizon})"

    # --- helpers --------------------------------------------------------------------------

    def _fitted(self) -> FloatArray:
        if not hasattr(self, "abs_residuals_"):
            raise RuntimeError(
                "This ConformalIntervals instance is not fitted yet. Call 'fit' with "
                "calibration residuals before asking for intervals."
            )
        return self.abs_residuals_

    def _check_forecast(self, point_forecast: ArrayLike) -> FloatArray:
        forecast = np.asarray(point_forecast, dtype=np.float64)
        if forecast.ndim not in (1, 2) or forecast.shape[-1] != self.horizon:
            raise ValueError(
                f"point_forecast must have shape (n_series, {self.horizon}) or "
                f"({self.horizon},) to match the calibrated horizon, got {forecast.shape}."
            )
        return forecast

    def _check_scale(self, scale: ArrayLike | None, forecast: FloatArray) -> FloatArray:
        if scale is None:
            return np.ones(1)
        factor = np.asarray(scale, dtype=np.float64)
        n_series = 1 if forecast.ndim == 1 else forecast.shape[0]
        if factor.ndim > 1 or factor.size != n_series:
            raise ValueError(
                f"scale must hold one value per series ({n_series}), got shape {factor.shape}."
            )
        bad = factor[~(np.isfinite(factor) & (factor >= 0))]
        if bad.size:
            raise ValueError(
                f"scale must be finite and >= 0, got {bad[0]}; "
                "use each series' level (e.g. the mean of its input window)."
            )
        return factor.reshape(-1, 1) if forecast.ndim == 2 else factor.reshape(())
