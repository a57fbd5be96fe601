"""Checks of :meth:`LSTMForecaster.predict`'s arguments against the fitted model."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["check_h", "check_levels"]


def check_h(h: int | None, horizon: int, strategy: str) -> int:
    """The number of steps to forecast: ``h``, or ``horizon`` when it is None.

    Parameters
    ----------
    h : int or None
        The steps asked for.
    horizon : int
        The horizon the model was trained for.
    strategy : {"direct", "recursive"}
        The model's strategy; a direct model forecasts at most ``horizon`` steps.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``h`` is not an integer >= 1, or longer than a direct model's horizon.
    """
    if h is None:
        return int(horizon)
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise ValueError(f"h must be an integer >= 1, got {h!r}.")
    if strategy == "direct" and h > horizon:
        raise ValueError(
            f"h={h} is longer than the horizon={horizon} the model was trained "
            f"for; ask for h <= {horizon} or refit with horizon={h}."
        )
    return int(h)


def check_levels(
    levels: Iterable[float] | None, steps: int, horizon: int, has_intervals: bool
) -> list[float]:
    """The interval coverage levels asked for, as floats (empty for None).

    Parameters
    ----------
    levels : iterable of float, float or None
        Percentages strictly between 0 and 100.
    steps : int
        The steps to forecast.
    horizon : int
        The horizon the intervals were calibrated for.
    has_intervals : bool
        Whether the model has calibrated intervals.

    Returns
    -------
    list of float

    Raises
    ------
    ValueError
        For a bad level, a model without intervals, or ``steps`` beyond ``horizon``.
    """
    if levels is None:
        return []
    chosen = [levels] if isinstance(levels, int | float) else list(levels)
    for level in chosen:
        number = isinstance(level, int | float | np.number) and not isinstance(level, bool)
        if not number or not 0.0 < float(level) < 100.0:
            raise ValueError(
                f"levels must be percentages strictly between 0 and 100, got {level!r}; "
                "use e.g. levels=(80, 95)."
            )
    if chosen and not has_intervals:
        raise ValueError(
            "this model has no calibration windows, so it cannot give intervals; refit "
            "with validation_windows >= 1 (and series long enough to hold them out)."
        )
    if chosen and steps > horizon:
        raise ValueError(
            f"intervals are calibrated for h <= {horizon}; ask for h <= "
            f"{horizon} or refit with horizon={steps}."
        )
    return [float(level) for level in chosen]
