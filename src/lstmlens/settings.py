"""From the forecaster's parameters and the data to a concrete plan.

:class:`lstmlens.forecaster.LSTMForecaster` stores its parameters unchanged (the scikit-learn
contract); at ``fit`` they are checked here (:func:`validate_params`) and every ``None`` or
``"auto"`` is resolved against the data (:func:`resolve_plan`): season, horizon, input window,
folding, log transform, covariates, validation windows and the training budget. The tables
behind the defaults live in :mod:`lstmlens.presets`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmlens import data as data_module
from lstmlens import presets
from lstmlens.data import DataError, Panel
from lstmlens.losses import LOSSES
from lstmlens.training import TrainingConfig
from lstmlens.windows import FloatArray, WindowSpec

__all__ = [
    "CovariatePlan",
    "Plan",
    "listing",
    "resolve_plan",
    "training_config",
    "validate_params",
]


@dataclass(frozen=True)
class CovariatePlan:
    """How step covariates are made: calendar encodings, then standardised user columns.

    Attributes
    ----------
    calendar : bool
        Append :func:`lstmlens.data.calendar_features` of each step's last time.
    calendar_names : tuple of str
        Their names (``"hour_sin"``...).
    user_names : tuple of str
        Extra numeric columns of the data, used as they were observed.
    user_mean, user_scale : (K,)
        Standardisation of the user columns (from the training data).
    """

    calendar: bool
    calendar_names: tuple[str, ...]
    user_names: tuple[str, ...]
    user_mean: FloatArray
    user_scale: FloatArray

    @property
    def names(self) -> tuple[str, ...]:
        """All covariate names, in the order they are appended to a step."""
        return self.calendar_names + self.user_names


@dataclass(frozen=True)
class Plan:
    """Everything ``fit`` resolved: windows, covariates and validation windows per series."""

    spec: WindowSpec
    covariates: CovariatePlan
    validation_windows: int
    ensemble_size: int


# --- resolving ---------------------------------------------------------------------------------


def resolve_plan(params: Mapping[str, Any], panel: Panel) -> Plan:
    """Resolve every ``None``/``"auto"`` parameter against the data.

    Raises
    ------
    DataError
        If a series is shorter than ``input_size + horizon`` (naming it), or ``log=True``
        meets values <= 0.
    ValueError
        For settings that contradict each other or the data.
    """
    freq = panel.freq if panel.freq is not None else params["freq"]
    season = params["season"] or presets.default_season(freq)
    horizon = params["horizon"] or presets.default_horizon(freq, season)
    input_size = _input_size(params, panel, season, horizon)
    step_length = params["step_length"] or presets.default_step_length(season, input_size)
    data_module.check_min_length(
        panel, input_size + horizon, what=f"input_size + horizon = {input_size} + {horizon}"
    )
    covariates = _covariate_plan(params, panel, freq)
    if covariates.user_names and params["strategy"] == "recursive":
        raise ValueError(
            f"strategy='recursive' needs future values of the covariates "
            f"{list(covariates.user_names)}, which are unknown when forecasting; use "
            "strategy='direct' or drop those columns."
        )
    spec = WindowSpec(
        input_size=input_size,
        step_length=step_length,
        horizon=horizon,
        season=season,
        strategy=params["strategy"],
        log=use_log(params["log"], panel),
        baseline=params["baseline"],
        n_covariates=len(covariates.names),
        scale_by_level=params["scaling"] == "level",
    )
    ensemble = params["ensemble_size"]
    if ensemble == "auto":
        ensemble = presets.default_ensemble_size(freq)
    return Plan(spec, covariates, _validation_windows(params, panel, spec), int(ensemble))


def _input_size(params: Mapping[str, Any], panel: Panel, season: int, horizon: int) -> int:
    """The given input size, or the preset one shortened (in whole steps) to fit the data."""
    if params["input_size"] is not None:
        return int(params["input_size"])
    size = presets.default_input_size(season, horizon)
    unit = params["step_length"] or (season if season > 1 else 1)
    shortest = int(panel.lengths().min())
    while size - unit >= max(unit, season) and size + horizon > shortest:
        size -= unit
    return size


def use_log(log: bool | str, panel: Panel) -> bool:
    """Whether to log-transform: ``"auto"`` when every value is positive."""
    if log is False:
        return False
    positive = [bool(np.all(v > 0.0)) for v in panel.values]
    if log == "auto":
        return all(positive)
    bad = [sid for sid, ok in zip(panel.ids, positive, strict=True) if not ok]
    if bad:
        raise DataError(
            f"log=True needs positive values, but series {listing(bad)} have values <= 0; "
            "use log=False (or 'auto') or shift the data."
        )
    return True


def _covariate_plan(params: Mapping[str, Any], panel: Panel, freq: str | None) -> CovariatePlan:
    calendar = params["calendar_features"]
    if calendar is True and not panel.has_dates:
        raise ValueError(
            "calendar_features=True needs dates, but the data's timestamps are integer "
            "positions; load data with a date column or use calendar_features='auto'."
        )
    names: tuple[str, ...] = ()
    if calendar and panel.has_dates and freq is not None:
        _, names = data_module.calendar_features(pd.DatetimeIndex(panel.timestamps[0][:1]), freq)
    user_names = tuple(panel.covariate_names) if panel.covariates is not None else ()
    mean, scale = np.zeros(len(user_names)), np.ones(len(user_names))
    if panel.covariates is not None and user_names:
        stacked = np.concatenate(panel.covariates)
        mean = stacked.mean(axis=0)
        spread = stacked.std(axis=0)
        scale = np.where(spread > 0.0, spread, 1.0)  # a constant column stays as it is
    return CovariatePlan(bool(names), names, user_names, mean, scale)


def _validation_windows(params: Mapping[str, Any], panel: Panel, spec: WindowSpec) -> int:
    """Origins per series held out: ``auto`` gives >= 20 over the panel when they fit."""
    if params["validation_windows"] != "auto":
        return int(params["validation_windows"])
    wanted = math.ceil(20 / len(panel))
    # Leave each series at least as many training origins as validation origins.
    room = int(panel.lengths().min()) - spec.input_size - 2 * spec.horizon
    return max(0, min(wanted, room // 2))


def training_config(
    params: Mapping[str, Any], n_train: int, members: int = 1, workers: int = 1
) -> TrainingConfig:
    """The training run's settings; ``max_steps="auto"`` is ~30 passes over the windows.

    A time budget is shared by the ``members`` of the ensemble, ``workers`` at a time.
    """
    max_steps: int | None
    if params["max_steps"] == "auto":
        passes = 30 * n_train / params["batch_size"]
        max_steps = None if params["time_budget"] else int(min(20000, max(300, passes)))
    else:
        max_steps = None if params["max_steps"] is None else int(params["max_steps"])
    budget = params["time_budget"]
    planned = max_steps if max_steps is not None else 10000
    return TrainingConfig(
        hidden_size=params["hidden_size"],
        num_layers=params["num_layers"],
        loss=params["loss"],
        learning_rate=params["learning_rate"],
        schedule=params["lr_schedule"],
        max_steps=max_steps,
        time_budget=None if budget is None else budget * workers / members,
        batch_size=params["batch_size"],
        gradient_clip=params["gradient_clip"],
        eval_every=max(25, min(250, planned // 40)),
        patience=params["patience"] if params["early_stopping"] else None,
        dtype=params["dtype"],
    )


# --- validation --------------------------------------------------------------------------------

_CHOICES: dict[str, tuple[Any, ...]] = {
    "strategy": ("direct", "recursive"),
    "baseline": ("seasonal_naive", "naive", "level"),
    "scaling": ("level", "none"),
    "log": ("auto", True, False),
    "loss": tuple(LOSSES),
    "lr_schedule": ("cosine", "constant"),
    "dtype": ("float32", "float64"),
    "calendar_features": ("auto", True, False),
    "missing": data_module.MISSING_POLICIES,
    "early_stopping": (True, False),
    "progress": (True, False),
}


def validate_params(params: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first bad parameter, its value and what is allowed."""
    for name, allowed in _CHOICES.items():
        value = params[name]
        # ``1 == True`` in Python, so compare types too: log=1 is not log=True.
        if not any(type(value) is type(option) and value == option for option in allowed):
            raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}.")
    for name in ("horizon", "input_size", "step_length", "season"):
        _check_int(params, name, minimum=1, optional=True)
    for name in ("hidden_size", "num_layers", "batch_size"):
        _check_int(params, name, minimum=1)
    if params["ensemble_size"] != "auto":
        _check_int(params, "ensemble_size", minimum=1)
    n_jobs = params["n_jobs"]
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or not (
        n_jobs >= 1 or n_jobs == -1
    ):
        raise ValueError(f"n_jobs must be an integer >= 1, or -1 for one per CPU, got {n_jobs!r}.")
    if params["max_steps"] != "auto":
        _check_int(params, "max_steps", minimum=1, optional=True)
    if params["max_steps"] is None and params["time_budget"] is None:
        raise ValueError(
            "max_steps=None trains until time_budget, but time_budget is None too; set "
            "max_steps (e.g. 'auto' or 5000) or time_budget in seconds."
        )
    if params["validation_windows"] != "auto":
        _check_int(params, "validation_windows", minimum=0)
    _check_int(params, "patience", minimum=1, optional=True)
    for name, optional in (("learning_rate", False), ("time_budget", True),
                           ("gradient_clip", True)):
        _check_positive_number(params, name, optional)
    seed = params["random_state"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise ValueError(
            f"random_state must be an int or None, got {seed!r}; pass a seed such as 0 so "
            "the same fit gives the same model."
        )
    for name in ("id_col", "time_col", "target_col"):
        if not isinstance(params[name], str):
            raise ValueError(f"{name} must be a column name (str), got {params[name]!r}.")
    size, step = params["input_size"], params["step_length"]
    if size is not None and step is not None and size % step:
        raise ValueError(
            f"step_length={step} must divide input_size={size} so the window folds into "
            "whole steps; e.g. input_size=168 with step_length=24."
        )


def _check_int(params: Mapping[str, Any], name: str, minimum: int, optional: bool = False) -> None:
    value = params[name]
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        allowed = f"None or an integer >= {minimum}" if optional else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {allowed}, got {value!r}.")


def _check_positive_number(params: Mapping[str, Any], name: str, optional: bool) -> None:
    value = params[name]
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}.")


def listing(items: Sequence[str], limit: int = 10) -> str:
    """Up to ``limit`` quoted items, comma-separated, with a count of the rest."""
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
