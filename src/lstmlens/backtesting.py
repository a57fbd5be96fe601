"""Evaluation: rolling-origin backtests, forecasts from a cutoff and in-sample fits.

The estimator is passed in (any object with its ``clone``/``set_params``/``fit`` contract),
so this module does not import :mod:`lstmlens.forecaster`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from lstmlens import data as data_module
from lstmlens import serving, settings
from lstmlens.data import DataError, Panel
from lstmlens.network import LSTMNetwork
from lstmlens.settings import CovariatePlan, listing
from lstmlens.windows import WindowSpec

__all__ = [
    "Backtestable", "backtest", "check_count", "forecast_from_cutoff", "in_sample_fits"
]


class Backtestable(Protocol):
    """What :func:`backtest` needs of an estimator (``LSTMForecaster`` has it)."""

    @property
    def horizon(self) -> int | None: ...

    def get_params(self, deep: bool = True) -> dict[str, Any]: ...

    def clone(self) -> Backtestable: ...

    def set_params(self, **params: Any) -> Backtestable: ...

    def fit(self, data: Any) -> Backtestable: ...

    def _load(self, data: Any) -> Panel: ...

    def _forecast_from_cutoff(self, panel: Panel, unseen: int, steps: int) -> pd.DataFrame: ...


def check_count(value: Any, name: str, meaning: str) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer >= 1.

    Parameters
    ----------
    value : Any
        The value to check.
    name : str
        The parameter's name, for the message.
    meaning : str
        What the parameter means, for the message.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1 ({meaning}), got {value!r}.")


def backtest(
    estimator: Backtestable,
    data: Any,
    n_windows: int,
    step_size: int | None = None,
    h: int | None = None,
    *,
    refit: bool = False,
) -> pd.DataFrame:
    """Rolling-origin evaluation from ``n_windows`` cutoffs at the end of each series.

    A copy of ``estimator`` (same parameters, ``horizon=h``) is fitted on the data up to
    the earliest cutoff, then forecasts from every cutoff with the actual values up to it
    (``refit=True`` refits at every cutoff instead). ``estimator`` is not changed.

    Parameters
    ----------
    estimator : Backtestable
        The (fitted or unfitted) forecaster whose parameters are evaluated.
    data : DataFrame, path, array or Panel
        The full series.
    n_windows : int
        Cutoffs per series; the last one is ``h`` values before each series' end.
    step_size : int, optional
        Values between consecutive cutoffs; default ``h``.
    h : int, optional
        Horizon of each forecast; default the ``horizon`` parameter (or its automatic
        value).
    refit : bool, default False
        Refit the model at every cutoff.

    Returns
    -------
    pandas.DataFrame
        ``unique_id, ds, cutoff, y, LSTM``.
    """
    check_count(n_windows, "n_windows", "the number of forecast origins")
    panel = estimator._load(data)
    steps = h if h is not None else estimator.horizon
    if steps is None:
        settings.validate_params(estimator.get_params())
        steps = settings.resolve_plan(estimator.get_params(), panel).spec.horizon
    check_count(steps, "h", "the horizon of each backtest forecast")
    spacing = steps if step_size is None else step_size
    check_count(spacing, "step_size", "the spacing of the cutoffs")
    data_module.check_min_length(
        panel,
        steps + (n_windows - 1) * spacing + 1,
        what=f"a backtest of {n_windows} windows of h={steps} every {spacing} values",
    )
    frames = []
    model: Backtestable | None = None
    for k in reversed(range(n_windows)):  # earliest cutoff first
        unseen = steps + k * spacing  # values after this cutoff
        if model is None or refit:
            model = estimator.clone().set_params(horizon=steps).fit(panel.drop_last(unseen))
        frames.append(model._forecast_from_cutoff(panel, unseen, steps))
    return pd.concat(frames, ignore_index=True)


def forecast_from_cutoff(
    panel: Panel,
    unseen: int,
    steps: int,
    *,
    networks: Sequence[LSTMNetwork],
    spec: WindowSpec,
    covariates: CovariatePlan,
    freq: str | None,
    column: str,
    id_col: str,
    time_col: str,
) -> pd.DataFrame:
    """Forecasts from the cutoff ``unseen`` values before each series' end.

    Parameters
    ----------
    panel : Panel
        The full series.
    unseen : int
        Values after the cutoff.
    steps : int
        Horizon of each forecast.
    networks : sequence of LSTMNetwork
        The fitted ensemble.
    spec : WindowSpec
        The fitted window settings.
    covariates : CovariatePlan
        The fitted covariate plan.
    freq : str or None
        The data's frequency.
    column : str
        Name of the forecast column, e.g. ``"LSTM"``.
    id_col, time_col : str
        Column names of the long format.

    Returns
    -------
    pandas.DataFrame
        ``unique_id, ds, cutoff, y, <column>``.
    """
    flat = serving.flat_panel(panel, covariates, freq)
    series = np.arange(flat.n_series, dtype=np.int64)
    origins = flat.lengths - unseen - 1
    input_size = spec.input_size
    short = [sid for sid, o in zip(panel.ids, origins, strict=True) if o < input_size - 1]
    if short:
        raise DataError(
            f"series {listing(short)} have fewer than input_size={input_size} values "
            "before the cutoff; use fewer backtest windows or a smaller input_size."
        )
    point, _ = serving.forecast_windows(networks, flat, series, origins, spec, steps)
    after = (flat.starts + origins)[:, None] + np.arange(1, steps + 1)
    stamps = [t[o + 1 : o + 1 + steps] for t, o in zip(panel.timestamps, origins, strict=True)]
    frame = data_module.to_long_frame(
        panel.ids, stamps, {"y": flat.values[after], column: point[:, :steps]},
        id_col=id_col, time_col=time_col,
    )
    cutoffs = pd.Index([t[o] for t, o in zip(panel.timestamps, origins, strict=True)])
    frame.insert(2, "cutoff", cutoffs.repeat(steps))
    return frame


def in_sample_fits(
    panel: Panel,
    *,
    networks: Sequence[LSTMNetwork],
    spec: WindowSpec,
    covariates: CovariatePlan,
    freq: str | None,
    column: str,
    id_col: str,
    time_col: str,
    target_col: str,
) -> pd.DataFrame:
    """In-sample one-step-ahead fits: each value forecast from the window just before it.

    Parameters
    ----------
    panel : Panel
        The series to fit.
    networks : sequence of LSTMNetwork
        The fitted ensemble.
    spec : WindowSpec
        The fitted window settings.
    covariates : CovariatePlan
        The fitted covariate plan.
    freq : str or None
        The data's frequency.
    column : str
        Name of the fits' column, e.g. ``"LSTM"``.
    id_col, time_col, target_col : str
        Column names of the long format.

    Returns
    -------
    pandas.DataFrame
        ``unique_id, ds, y, <column>`` for every value with a full input window before it.
    """
    flat = serving.flat_panel(panel, covariates, freq)
    length = spec.input_size
    counts = np.maximum(flat.lengths - length, 0)
    series = np.repeat(np.arange(flat.n_series, dtype=np.int64), counts)
    origins = np.concatenate([np.arange(length - 1, n - 1) for n in flat.lengths])
    origins = origins.astype(np.int64)
    point, _ = serving.forecast_windows(networks, flat, series, origins, spec, 1)
    return pd.DataFrame({
        id_col: np.array(panel.ids, dtype=object)[series],
        time_col: np.concatenate([np.asarray(t[length:]) for t in panel.timestamps]),
        target_col: flat.values[flat.starts[series] + origins + 1],
        column: point[:, 0],
    })
