"""``LSTMForecaster``: one global LSTM for many series, with the scikit-learn contract.

The orchestrator of the data path::

    data ──data.load_panel──▶ Panel ──settings──▶ plan ──windows──▶ (B, T, I) windows
         ──training──▶ networks ──serving──▶ forecasts (long frame), intervals, backtests,
         traces ──model_file──▶ one .lstmlens file

How a forecast is made (defaults): the last ``input_size`` values of a series are divided by
their level (mean of the last season) and log-transformed, folded into steps of one season
(168 hourly values -> 7 daily steps of 24), and run through the LSTM; its Dense head outputs
a correction for each of the ``horizon`` steps, added to the seasonal-naive forecast in the
same scaled units, then mapped back to the original units. An ensemble takes the median of
its members' forecasts.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstmlens import data as data_module
from lstmlens import serving, settings
from lstmlens.data import DataError, Panel
from lstmlens.intervals import ConformalIntervals
from lstmlens.model_file import FittedState, read_model, write_model
from lstmlens.network import LSTMNetwork
from lstmlens.progress import TrainingProgress
from lstmlens.serving import Context
from lstmlens.settings import CovariatePlan, listing
from lstmlens.trace import NetworkTrace
from lstmlens.training import TrainingResult, train_in_processes, train_network
from lstmlens.windows import (
    FlatPanel,
    FloatArray,
    IntArray,
    WindowSpec,
    build_windows,
    split_origins,
    unscale,
)

__all__ = ["MODEL_NAME", "ForecastTrace", "LSTMForecaster", "NotFittedError"]

#: Column name of the forecasts (statsforecast style: ``LSTM``, ``LSTM-lo-80``...).
MODEL_NAME = "LSTM"

NOT_FITTED_MESSAGE = (
    "This LSTMForecaster instance is not fitted yet. Call 'fit' with appropriate arguments "
    "before using this estimator."
)


class NotFittedError(ValueError, AttributeError):
    """A method needs a fitted forecaster (like scikit-learn's ``NotFittedError``)."""


# =============================================================================================
# The trace of one forecast (contract with lstmlens.explain and the explorer)
# =============================================================================================


@dataclass(frozen=True)
class ForecastTrace:
    """Everything the network computed for one series' forecast, with its context.

    Attributes
    ----------
    series_id : str
        The series.
    network_trace : NetworkTrace
        Every gate and memory of every step, from ``network_.forward(inputs[None],
        record_trace=True)`` on the series' last input window (batch of 1; ensemble member 0).
    inputs : (T, I)
        The scaled network inputs of that window.
    feature_names : tuple of str
        Length ``I``: ``"y[t-23]"`` .. ``"y[t]"`` (``t`` = the step's last time), then the
        covariates, e.g. ``"hour_sin"``.
    step_labels : tuple of str
        Length ``T``: the time each step covers, e.g. ``"2016-07-01 00:00 – 23:00"``, or
        ``"values 1–24"`` without dates.
    history : (L,)
        The raw values of the input window.
    history_index : pandas.Index
        Their timestamps.
    forecast : (h,)
        Member 0's forecast in original units (equals ``predict()`` for a single member).
    forecast_index : pandas.Index
        The forecast's timestamps.
    level : float
        The window's level ``ℓ`` (values were divided by it).
    base : (O,)
        The base forecast (seasonal naive by default) in scaled units; the network's output
        is a correction added to it.
    log_transform : bool
        Whether scaled values are ``log(y / ℓ)`` (else ``y / ℓ``).
    """

    series_id: str
    network_trace: NetworkTrace
    inputs: FloatArray
    feature_names: tuple[str, ...]
    step_labels: tuple[str, ...]
    history: FloatArray
    history_index: pd.Index
    forecast: FloatArray
    forecast_index: pd.Index
    level: float
    base: FloatArray = field(repr=False, default_factory=lambda: np.zeros(0))
    log_transform: bool = True

    def to_original_units(self, network_output: FloatArray) -> FloatArray:
        """Map the network's output, (O,) or (1, O), to values in the data's units.

        ``ℓ · exp(base + output)`` with the log transform, else ``ℓ · (base + output)``.
        """
        output = np.asarray(network_output, dtype=np.float64).reshape(-1)
        if output.shape != self.base.shape:
            raise ValueError(
                f"network_output must have {self.base.size} values (the network's output "
                f"size), got shape {np.shape(network_output)}."
            )
        scaled = (self.base + output)[None, :]
        original = unscale(scaled, np.array([self.level]), self.log_transform)[0]
        return np.asarray(original, dtype=np.float64)


# =============================================================================================
# The estimator
# =============================================================================================


class LSTMForecaster:
    """A global LSTM forecaster for one or many series (scikit-learn estimator contract).

    Defaults are chosen from the data's frequency (:mod:`lstmlens.presets`); for hourly
    data they are the settings tuned on M4 Hourly (``benchmarks/m4_hourly.py``).

    Parameters
    ----------
    horizon : int, optional
        Steps to forecast. Default from the frequency (M4's: 48 hourly, 14 daily, 13 weekly,
        18 monthly, 8 quarterly), else two seasons.
    input_size : int, optional
        Past values each forecast sees. Default a whole number of seasons (168 = one week
        for hourly data), shortened for short series.
    step_length : int, optional
        Values fed per LSTM step (period folding); must divide ``input_size``. Default one
        season per step (7 daily steps of 24 for hourly data), else 1.
    season : int, optional
        Seasonal period. Default from the frequency: h→24, D→7, W→52, M/MS→12, Q→4, else 1.
    hidden_size : int, default 128
        Units of each LSTM layer.
    num_layers : int, default 1
        Stacked LSTM layers.
    strategy : {"direct", "recursive"}, default "direct"
        ``direct``: the head outputs all ``horizon`` steps at once; ``recursive``: one step,
        fed back ``h`` times.
    baseline : {"seasonal_naive", "naive", "level"}, default "seasonal_naive"
        The forecast the network corrects (it learns ``scaled(y) - scaled(baseline)``).
    scaling : {"level", "none"}, default "level"
        ``level`` divides every window by the mean absolute value of its last season.
    log : {"auto", True, False}, default "auto"
        Log-transform the scaled values; ``auto`` does it when every value is positive.
    loss : {"mae", "mse", "huber", "pinball", "smape"}, default "mae"
        Training loss on the scaled targets. With the log transform, MAE is aligned with
        sMAPE and MASE (see :mod:`lstmlens.losses`).
    learning_rate : float, default 4e-3
        Adam's peak learning rate.
    lr_schedule : {"cosine", "constant"}, default "cosine"
        Cosine decay to 0 over the run, after a 2% warm-up.
    max_steps : int, "auto" or None, default "auto"
        Optimiser steps per ensemble member. ``auto``: about 30 passes over the training
        windows, between 300 and 20000 steps. None: train until ``time_budget``.
    time_budget : float, optional
        Seconds of training for the whole fit, shared by the ensemble members; with
        ``max_steps="auto"`` the budget alone decides. Timed fits are not bit-reproducible.
    batch_size : int, default 256
        Windows per optimiser step.
    gradient_clip : float or None, default 1.0
        Global gradient norm limit.
    validation_windows : int or "auto", default "auto"
        Forecast origins per series held out at the end of each series for early stopping
        and interval calibration (0 turns both off). ``auto`` gives at least 20 windows over
        the panel when the series are long enough.
    early_stopping : bool, default True
        Keep the weights that scored best on the validation windows.
    patience : int or None, default None
        Stop after this many validation checks without improvement (None: train the whole
        budget, then restore the best weights).
    ensemble_size : int or "auto", default "auto"
        Networks trained from different seeds; forecasts are their median. ``auto``: 4 for
        hourly data (tuned on M4 Hourly), else 1.
    n_jobs : int, default -1
        Processes training ensemble members at once, one thread each (-1: one per CPU).
        Each member is the same as when trained alone in one thread.
    random_state : int or None, default 0
        Seed of everything random: the same seed gives a bit-identical model.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the network.
    calendar_features : {"auto", True, False}, default "auto"
        Append calendar encodings (hour, day of week, month as sin/cos) to every step when
        the data has dates.
    progress : bool, default True
        Show a progress bar while training.
    id_col, time_col, target_col : str
        Column names of the long format.
    freq : str, optional
        pandas frequency alias; inferred from the dates when omitted.
    missing : {"error", "interpolate", "drop"}, default "error"
        What to do with missing values (see :func:`lstmlens.data.load_panel`).

    Attributes
    ----------
    ids_ : tuple of str
        The series the model was fitted on.
    network_ : LSTMNetwork
        The first trained network (the one :meth:`trace` records).
    networks_ : list of LSTMNetwork
        All ensemble members.
    spec_ : WindowSpec
        The resolved window settings; also as ``horizon_``, ``input_size_``,
        ``step_length_``, ``season_`` and ``log_``.
    feature_names_ : tuple of str
        Names of the ``I`` inputs of every step.
    intervals_ : ConformalIntervals or None
        Calibrated on the validation windows; None without them.
    context_ : Context
        The last ``input_size`` values, timestamps and covariates of every series.
    training_ : list of dict
        Per member: steps, best step, validation loss, seconds, loss curves.
    training_summary_ : dict
        Number of series, lengths and time span of the training data.
    """

    def __init__(
        self,
        horizon: int | None = None,
        input_size: int | None = None,
        step_length: int | None = None,
        season: int | None = None,
        hidden_size: int = 128,
        num_layers: int = 1,
        strategy: str = "direct",
        baseline: str = "seasonal_naive",
        scaling: str = "level",
        log: bool | str = "auto",
        loss: str = "mae",
        learning_rate: float = 4e-3,
        lr_schedule: str = "cosine",
        max_steps: int | str | None = "auto",
        time_budget: float | None = None,
        batch_size: int = 256,
        gradient_clip: float | None = 1.0,
        validation_windows: int | str = "auto",
        early_stopping: bool = True,
        patience: int | None = None,
        ensemble_size: int | str = "auto",
        n_jobs: int = -1,
        random_state: int | None = 0,
        dtype: str = "float32",
        calendar_features: bool | str = "auto",
        progress: bool = True,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        freq: str | None = None,
        missing: str = "error",
    ) -> None:
        self.horizon = horizon
        self.input_size = input_size
        self.step_length = step_length
        self.season = season
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.strategy = strategy
        self.baseline = baseline
        self.scaling = scaling
        self.log = log
        self.loss = loss
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.max_steps = max_steps
        self.time_budget = time_budget
        self.batch_size = batch_size
        self.gradient_clip = gradient_clip
        self.validation_windows = validation_windows
        self.early_stopping = early_stopping
        self.patience = patience
        self.ensemble_size = ensemble_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dtype = dtype
        self.calendar_features = calendar_features
        self.progress = progress
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.freq = freq
        self.missing = missing

    # ------------------------------------------------------------------ sklearn plumbing
    @classmethod
    def _param_names(cls) -> list[str]:
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters by name (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> LSTMForecaster:
        """Set constructor parameters by name; they take effect at the next fit."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for LSTMForecaster; valid parameters are: "
                    f"{', '.join(valid)}."
                )
            setattr(self, name, value)
        return self

    def clone(self) -> LSTMForecaster:
        """An unfitted copy with the same parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not _same(value, defaults[name].default)
        ]
        return f"LSTMForecaster({', '.join(changed)})"

    def _repr_html_(self) -> str:
        """A notebook card: the forecast, its figures and what the memory holds."""
        from lstmlens.explain.report import forecaster_repr_html

        return forecaster_repr_html(self)

    def _check_fitted(self) -> None:
        if not hasattr(self, "networks_"):
            raise NotFittedError(NOT_FITTED_MESSAGE)

    # ------------------------------------------------------------------ fit
    def fit(self, data: Any) -> LSTMForecaster:
        """Train one global model on every series of ``data``.

        Parameters
        ----------
        data : DataFrame, CSV path, Series, array or Panel
            Long format (``unique_id``, ``ds``, ``y``; names set by ``id_col``...), wide,
            or a single series; see :func:`lstmlens.data.load_panel`.

        Returns
        -------
        LSTMForecaster
            ``self``, fitted.

        Raises
        ------
        ValueError
            For a bad parameter (the message names it and what is allowed).
        DataError
            For unusable data, e.g. series shorter than ``input_size + horizon``.
        """
        params = self.get_params()
        settings.validate_params(params)
        panel = self._load(data)
        plan = settings.resolve_plan(params, panel)
        _warn_constant(panel)
        spec = plan.spec
        freq = panel.freq if panel.freq is not None else self.freq
        flat = serving.flat_panel(panel, plan.covariates, freq)
        train, validation = split_origins(flat.lengths, spec, plan.validation_windows)
        if train[0].size == 0:
            raise DataError(
                f"no training windows: the series are too short for input_size="
                f"{spec.input_size} + horizon={spec.horizon} plus {plan.validation_windows} "
                "validation window(s) at their end; lower input_size, horizon or "
                "validation_windows."
            )
        results = self._train_members(flat, spec, train, validation, plan.ensemble_size)
        networks = [result.network for result in results]
        # Learned state is set only now, so a failed fit leaves no half-fitted object.
        self._set_state(
            FittedState(
                spec=spec,
                freq=freq,
                ids=panel.ids,
                covariates=plan.covariates,
                feature_names=serving.feature_names(spec, plan.covariates),
                networks=networks,
                intervals=_calibrate(networks, flat, spec, validation),
                context=serving.context_of(panel, spec.input_size),
                training=[_result_summary(result) for result in results],
                training_summary=_panel_summary(panel),
            )
        )
        self._training_panel = panel  # for fitted_values(); not saved
        return self

    def _load(self, data: Any) -> Panel:
        if isinstance(data, Panel):
            return data
        return data_module.load_panel(
            data,
            id_col=self.id_col,
            time_col=self.time_col,
            target_col=self.target_col,
            freq=self.freq,
            missing=self.missing,  # type: ignore[arg-type]
        )

    def _train_members(
        self,
        flat: FlatPanel,
        spec: WindowSpec,
        train: tuple[IntArray, IntArray],
        validation: tuple[IntArray, IntArray],
        members: int,
    ) -> list[TrainingResult]:
        workers = min(members, self.n_jobs if self.n_jobs > 0 else os.cpu_count() or 1)
        config = settings.training_config(self.get_params(), train[0].size, members, workers)
        checked = validation if self.early_stopping else (validation[0][:0], validation[1][:0])
        # One child generator per member: members differ, and each is reproducible alone.
        rngs = np.random.default_rng(self.random_state).spawn(members)
        results: list[TrainingResult] = []
        with TrainingProgress(self.progress, config.max_steps, members) as bar:
            if workers > 1:
                return train_in_processes(
                    flat, spec, train, checked, config, rngs, workers, bar.member_done
                )
            for member, rng in enumerate(rngs):
                bar.start_member(member, sum(r.steps for r in results))
                results.append(
                    train_network(flat, spec, train, checked, config, rng, bar.on_step)
                )
        return results

    def _set_state(self, state: FittedState) -> None:
        """Set every learned attribute from ``state`` (after fit or load)."""
        self.spec_ = state.spec
        self.horizon_ = state.spec.horizon
        self.input_size_ = state.spec.input_size
        self.step_length_ = state.spec.step_length
        self.season_ = state.spec.season
        self.log_ = state.spec.log
        self.freq_ = state.freq
        self.ids_ = state.ids
        self.covariates_: CovariatePlan = state.covariates
        self.feature_names_ = state.feature_names
        self.networks_ = state.networks
        self.network_ = state.networks[0]
        self.intervals_ = state.intervals
        self.context_ = state.context
        self.training_ = state.training
        self.training_summary_ = state.training_summary

    def _state(self) -> FittedState:
        return FittedState(
            spec=self.spec_,
            freq=self.freq_,
            ids=self.ids_,
            covariates=self.covariates_,
            feature_names=self.feature_names_,
            networks=self.networks_,
            intervals=self.intervals_,
            context=self.context_,
            training=self.training_,
            training_summary=self.training_summary_,
        )

    # ------------------------------------------------------------------ predict
    def predict(
        self,
        h: int | None = None,
        levels: Iterable[float] | None = None,
        *,
        data: Any = None,
    ) -> pd.DataFrame:
        """Forecast the next ``h`` values of every series.

        Parameters
        ----------
        h : int, optional
            Steps to forecast; default ``horizon``. At most ``horizon`` for the direct
            strategy (and for intervals).
        levels : iterable of float, optional
            Coverage levels in percent of conformal intervals, e.g. ``(80, 95)``.
        data : optional
            Forecast from the end of these series instead of the fitted ones (no refit);
            each needs at least ``input_size`` values.

        Returns
        -------
        pandas.DataFrame
            ``unique_id, ds, LSTM`` and, per level, ``LSTM-lo-<level>, LSTM-hi-<level>``.
        """
        self._check_fitted()
        steps = self._check_h(h)
        chosen = self._check_levels(levels, steps)
        ids, context = (self.ids_, self.context_) if data is None else self._context_from(data)
        # Recursive forecasts run at least the whole horizon: intervals are calibrated on it.
        ahead = max(steps, self.horizon_) if self.spec_.strategy == "recursive" else 0
        flat = serving.context_flat(context, self.covariates_, self.freq_, ahead)
        series = np.arange(flat.n_series, dtype=np.int64)
        origins = np.full(flat.n_series, self.input_size_ - 1, dtype=np.int64)
        point, window_levels = serving.forecast_windows(
            self.networks_, flat, series, origins, self.spec_, ahead or None
        )
        columns: dict[str, FloatArray] = {MODEL_NAME: point[:, :steps]}
        if chosen:
            assert self.intervals_ is not None  # _check_levels made sure
            bounds = self.intervals_.interval(point[:, : self.horizon_], chosen, window_levels)
            for level in chosen:
                lo, hi = bounds[level]
                columns[f"{MODEL_NAME}-lo-{level:g}"] = lo[:, :steps]
                columns[f"{MODEL_NAME}-hi-{level:g}"] = hi[:, :steps]
        future = [data_module.future_timestamps(t, self.freq_, steps) for t in context.times]
        return data_module.to_long_frame(
            ids, future, columns, id_col=self.id_col, time_col=self.time_col
        )

    def _check_h(self, h: int | None) -> int:
        if h is None:
            return int(self.horizon_)
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise ValueError(f"h must be an integer >= 1, got {h!r}.")
        if self.spec_.strategy == "direct" and h > self.horizon_:
            raise ValueError(
                f"h={h} is longer than the horizon={self.horizon_} the model was trained "
                f"for; ask for h <= {self.horizon_} or refit with horizon={h}."
            )
        return int(h)

    def _check_levels(self, levels: Iterable[float] | None, steps: int) -> list[float]:
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
        if chosen and self.intervals_ is None:
            raise ValueError(
                "this model has no calibration windows, so it cannot give intervals; refit "
                "with validation_windows >= 1 (and series long enough to hold them out)."
            )
        if chosen and steps > self.horizon_:
            raise ValueError(
                f"intervals are calibrated for h <= {self.horizon_}; ask for h <= "
                f"{self.horizon_} or refit with horizon={steps}."
            )
        return [float(level) for level in chosen]

    def _context_from(self, data: Any) -> tuple[tuple[str, ...], Context]:
        panel = self._load(data)
        data_module.check_min_length(
            panel, self.input_size_, what=f"input_size = {self.input_size_}"
        )
        if self.log_:
            settings.use_log(True, panel)  # the same positivity check as in fit
        return panel.ids, serving.context_of(panel, self.input_size_)

    # ------------------------------------------------------------------ update (streaming)
    def update(self, new_observations: Any) -> LSTMForecaster:
        """Append new observations to the series' context, without refitting.

        Only the last ``input_size`` values of each series are kept, so an update costs
        O(input_size) however long the history is, and the next :meth:`predict` equals a
        prediction from the whole history, ``predict(data=full_history)``.

        Parameters
        ----------
        new_observations : DataFrame or mapping
            Long-format rows (``unique_id``, ``ds``, ``y`` and any covariates) that continue
            known series right after their last timestamp, or ``{series_id: value(s)}``
            (timestamps then follow on).

        Returns
        -------
        LSTMForecaster
            ``self``.
        """
        self._check_fitted()
        additions = self._parse_update(new_observations)
        values = self.context_.values.copy()
        times = list(self.context_.times)
        covariates = self.context_.covariates.copy()
        length = self.input_size_
        for sid, (new_values, new_times, new_covariates) in additions.items():
            i = self.ids_.index(sid)
            values[i] = np.concatenate([values[i], new_values])[-length:]
            times[i] = times[i].append(new_times)[-length:]
            covariates[i] = np.concatenate([covariates[i], new_covariates])[-length:]
        self.context_ = Context(values, tuple(times), covariates)
        return self

    def _parse_update(self, new: Any) -> dict[str, tuple[FloatArray, pd.Index, FloatArray]]:
        """``{series_id: (values, timestamps, covariates)}`` of the new observations."""
        user = self.covariates_.user_names
        parsed: dict[str, tuple[FloatArray, pd.Index, FloatArray]] = {}
        if isinstance(new, Mapping):
            if user:
                raise ValueError(
                    f"this model uses the covariates {list(user)}; pass new observations as "
                    "a DataFrame with those columns, not a mapping."
                )
            for sid, value in new.items():
                i = self._known_index(str(sid))
                values = np.atleast_1d(np.asarray(value, dtype=np.float64))
                stamps = data_module.future_timestamps(self.context_.times[i], self.freq_,
                                                       values.size)
                parsed[str(sid)] = (values, stamps, np.zeros((values.size, 0)))
        else:
            panel = data_module.load_panel(
                new, id_col=self.id_col, time_col=self.time_col, target_col=self.target_col,
                freq=self.freq_, missing="error",
            )
            if (tuple(panel.covariate_names) if panel.covariates is not None else ()) != user:
                raise DataError(
                    f"new observations have covariates {list(panel.covariate_names)} but the "
                    f"model was fitted with {list(user)}; pass the same columns."
                )
            for k, sid in enumerate(panel.ids):
                self._known_index(sid)
                n = panel.values[k].size
                cov = panel.covariates[k] if panel.covariates is not None else np.zeros((n, 0))
                parsed[sid] = (panel.values[k], panel.timestamps[k], cov)
        for sid, (appended, stamps, _) in parsed.items():
            self._check_continues(sid, appended, stamps)
        return parsed

    def _known_index(self, sid: str) -> int:
        if sid not in self.ids_:
            raise DataError(
                f"unknown series id {sid!r}; the model knows {listing(list(self.ids_))}. "
                "Check the spelling, or refit to add new series."
            )
        return self.ids_.index(sid)

    def _check_continues(self, sid: str, values: FloatArray, stamps: pd.Index) -> None:
        last = self.context_.times[self.ids_.index(sid)]
        expected = data_module.future_timestamps(last, self.freq_, len(stamps))
        if not expected.equals(pd.Index(stamps)):
            raise DataError(
                f"series {sid!r}: new observations must continue right after its last "
                f"timestamp {last[-1]}, i.e. start at {expected[0]} without gaps; got "
                f"{stamps[0]}..{stamps[-1]}."
            )
        if not np.all(np.isfinite(values)):
            raise DataError(f"series {sid!r}: new observations contain missing values.")
        if self.log_ and np.any(values <= 0.0):
            raise DataError(
                f"series {sid!r}: the model works on log values, but a new observation is "
                f"<= 0 ({values[values <= 0.0][0]}); refit with log=False for such data."
            )

    # ------------------------------------------------------------------ backtest
    def backtest(
        self,
        data: Any,
        n_windows: int,
        step_size: int | None = None,
        h: int | None = None,
        *,
        refit: bool = False,
    ) -> pd.DataFrame:
        """Rolling-origin evaluation from ``n_windows`` cutoffs at the end of each series.

        A copy of this forecaster (same parameters, ``horizon=h``) is fitted on the data up
        to the earliest cutoff, then forecasts from every cutoff with the actual values up
        to it (``refit=True`` refits at every cutoff instead). ``self`` is not changed.

        Parameters
        ----------
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
            ``unique_id, ds, cutoff, y, LSTM``: ``cutoff`` is the last timestamp the forecast
            saw, ``y`` the actual value at ``ds``.
        """
        _check_count(n_windows, "n_windows", "the number of forecast origins")
        panel = self._load(data)
        steps = h if h is not None else self.horizon
        if steps is None:
            settings.validate_params(self.get_params())
            steps = settings.resolve_plan(self.get_params(), panel).spec.horizon
        _check_count(steps, "h", "the horizon of each backtest forecast")
        spacing = steps if step_size is None else step_size
        _check_count(spacing, "step_size", "the spacing of the cutoffs")
        data_module.check_min_length(
            panel,
            steps + (n_windows - 1) * spacing + 1,
            what=f"a backtest of {n_windows} windows of h={steps} every {spacing} values",
        )
        frames = []
        model: LSTMForecaster | None = None
        for k in reversed(range(n_windows)):  # earliest cutoff first
            unseen = steps + k * spacing  # values after this cutoff
            if model is None or refit:
                model = self.clone().set_params(horizon=steps).fit(panel.drop_last(unseen))
            frames.append(model._forecast_from_cutoff(panel, unseen, steps))
        return pd.concat(frames, ignore_index=True)

    def _forecast_from_cutoff(self, panel: Panel, unseen: int, steps: int) -> pd.DataFrame:
        """Forecasts from the cutoff ``unseen`` values before each series' end."""
        flat = serving.flat_panel(panel, self.covariates_, self.freq_)
        series = np.arange(flat.n_series, dtype=np.int64)
        origins = flat.lengths - unseen - 1
        short = [sid for sid, o in zip(panel.ids, origins, strict=True) if o < self.input_size_ - 1]
        if short:
            raise DataError(
                f"series {listing(short)} have fewer than input_size={self.input_size_} values "
                "before the cutoff; use fewer backtest windows or a smaller input_size."
            )
        point, _ = serving.forecast_windows(self.networks_, flat, series, origins, self.spec_,
                                            steps)
        after = (flat.starts + origins)[:, None] + np.arange(1, steps + 1)
        stamps = [t[o + 1 : o + 1 + steps] for t, o in zip(panel.timestamps, origins, strict=True)]
        frame = data_module.to_long_frame(
            panel.ids, stamps, {"y": flat.values[after], MODEL_NAME: point[:, :steps]},
            id_col=self.id_col, time_col=self.time_col,
        )
        cutoffs = pd.Index([t[o] for t, o in zip(panel.timestamps, origins, strict=True)])
        frame.insert(2, "cutoff", cutoffs.repeat(steps))
        return frame

    # ------------------------------------------------------------------ fitted values
    def fitted_values(self, data: Any = None) -> pd.DataFrame:
        """In-sample one-step-ahead fits: each value forecast from the window just before it.

        Parameters
        ----------
        data : optional
            Series to fit; default the training data (required after :meth:`load`).

        Returns
        -------
        pandas.DataFrame
            ``unique_id, ds, y, LSTM`` for every value with a full input window before it.
        """
        self._check_fitted()
        if data is not None:
            panel = self._load(data)
        elif hasattr(self, "_training_panel"):
            panel = self._training_panel
        else:
            raise ValueError(
                "this model was loaded from a file and does not keep its training data; "
                "pass the series: fitted_values(data)."
            )
        flat = serving.flat_panel(panel, self.covariates_, self.freq_)
        length = self.input_size_
        counts = np.maximum(flat.lengths - length, 0)
        series = np.repeat(np.arange(flat.n_series, dtype=np.int64), counts)
        origins = np.concatenate([np.arange(length - 1, n - 1) for n in flat.lengths])
        origins = origins.astype(np.int64)
        point, _ = serving.forecast_windows(self.networks_, flat, series, origins, self.spec_, 1)
        return pd.DataFrame({
            self.id_col: np.array(panel.ids, dtype=object)[series],
            self.time_col: np.concatenate([np.asarray(t[length:]) for t in panel.timestamps]),
            self.target_col: flat.values[flat.starts[series] + origins + 1],
            MODEL_NAME: point[:, 0],
        })

    # ------------------------------------------------------------------ trace
    def trace(self, series_id: str | None = None) -> ForecastTrace:
        """Run member 0 on one series' last input window and record every gate.

        Parameters
        ----------
        series_id : str, optional
            Which series; default the first one.

        Returns
        -------
        ForecastTrace
        """
        self._check_fitted()
        i = 0 if series_id is None else self._known_index(str(series_id))
        one = self.context_.select(i)
        spec = self.spec_
        extra = spec.horizon if spec.strategy == "recursive" else 0
        flat = serving.context_flat(one, self.covariates_, self.freq_, extra)
        first = np.zeros(1, dtype=np.int64)
        origin = np.full(1, spec.input_size - 1, dtype=np.int64)
        batch = build_windows(
            flat, first, origin, spec, with_targets=False, dtype=self.network_.dtype.type
        )
        result = self.network_.forward(batch.inputs, record_trace=True)
        assert result.trace is not None  # record_trace=True always records
        forecast, _ = serving.forecast_windows(self.networks_[:1], flat, first, origin, spec)
        times = one.times[0]
        return ForecastTrace(
            series_id=self.ids_[i],
            network_trace=result.trace,
            inputs=batch.inputs[0],
            feature_names=self.feature_names_,
            step_labels=serving.step_labels(times, spec.step_length),
            history=one.values[0].copy(),
            history_index=times,
            forecast=forecast[0],
            forecast_index=data_module.future_timestamps(times, self.freq_, spec.horizon),
            level=float(batch.levels[0]),
            base=np.asarray(batch.base[0], dtype=np.float64),
            log_transform=spec.log,
        )

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        """Save the fitted model to one safetensors file (weights + JSON metadata).

        The file holds everything :meth:`predict`, :meth:`update` and :meth:`trace` need,
        including each series' last ``input_size`` values, so no data is needed after
        :meth:`load`. See :mod:`lstmlens.model_file` for the layout.

        Parameters
        ----------
        path : str or os.PathLike
            Target file, e.g. ``"model.lstmlens"``.
        overwrite : bool, default False
            Replace an existing file; without it an existing file is an error.
        """
        self._check_fitted()
        write_model(path, self.get_params(), self._state(), overwrite=overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LSTMForecaster:
        """Load a model saved by :meth:`save`; tensor names, shapes and dtypes are checked.

        Raises
        ------
        lstmlens.io.ModelFileError
            If the file is missing, damaged, holds another estimator, or its tensors do not
            match its metadata.
        """
        params, state = read_model(path)
        unknown = sorted(set(params) - set(cls._param_names()))
        if unknown:
            from lstmlens.io import ModelFileError

            raise ModelFileError(
                f"{path} has parameters {unknown} this version of LSTMForecaster does not "
                "know; upgrade lstmlens to load it."
            )
        model = cls(**params)
        model._set_state(state)
        return model


# =============================================================================================
# Helpers
# =============================================================================================


def _calibrate(
    networks: list[LSTMNetwork],
    flat: FlatPanel,
    spec: WindowSpec,
    validation: tuple[IntArray, IntArray],
) -> ConformalIntervals | None:
    """Conformal intervals from the validation windows' errors relative to their level.

    Validation windows are never trained on (also with early stopping off), so their errors
    are honest calibration data.
    """
    series, origins = validation
    if series.size == 0:
        return None
    forecast, levels = serving.forecast_windows(networks, flat, series, origins, spec)
    positions = (flat.starts[series] + origins)[:, None] + np.arange(1, spec.horizon + 1)
    return ConformalIntervals().fit((flat.values[positions] - forecast) / levels[:, None])


def _warn_constant(panel: Panel) -> None:
    constant = panel.constant_ids()
    if constant:
        warnings.warn(
            f"series {listing(list(constant))} are constant; the model can only learn to "
            "repeat their value. Remove them if that is not intended.",
            UserWarning,
            stacklevel=3,
        )


def _result_summary(result: TrainingResult) -> dict[str, Any]:
    return {
        "steps": result.steps,
        "best_step": result.best_step,
        "best_validation_loss": result.best_validation_loss,
        "seconds": round(result.seconds, 3),
        "stopped_early": result.stopped_early,
        "loss_curve": [float(x) for x in result.loss_curve],
        "validation_curve": [float(x) for x in result.validation_curve],
    }


def _panel_summary(panel: Panel) -> dict[str, Any]:
    lengths = panel.lengths()
    return {
        "n_series": len(panel),
        "n_observations": int(lengths.sum()),
        "min_length": int(lengths.min()),
        "max_length": int(lengths.max()),
        "first_timestamp": str(min(t[0] for t in panel.timestamps)),
        "last_timestamp": str(max(t[-1] for t in panel.timestamps)),
        "freq": panel.freq,
    }


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (so ``log=1`` is not shown as the default ``True``)."""
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def _check_count(value: Any, name: str, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1 ({meaning}), got {value!r}.")
