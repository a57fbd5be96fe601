"""``LSTMForecaster``: one global LSTM for many series, with the scikit-learn contract.

The orchestrator of the data path::

    data ──data.load_panel──▶ Panel ──windows──▶ (B, T, I) windows ──training──▶ networks
         ──▶ forecasts (long frame), conformal intervals, backtests, traces, model files

How a forecast is made (defaults): the last ``input_size`` values of a series are divided by
their level (mean of the last season) and log-transformed, folded into steps of one season
(168 hourly values -> 7 daily steps of 24), and run through the LSTM; its Dense head outputs
a correction for each of the ``horizon`` steps, added to the seasonal-naive forecast in the
same scaled units, then mapped back to the original units. An ensemble takes the median of
its members' forecasts.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from lstmlens import data as data_module
from lstmlens import presets
from lstmlens.data import DataError, Panel
from lstmlens.intervals import ConformalIntervals
from lstmlens.io import ModelFileError, load_model_file, save_model_file, validate_tensors
from lstmlens.losses import LOSSES
from lstmlens.network import LSTMNetwork, parameter_shapes
from lstmlens.trace import NetworkTrace
from lstmlens.training import TrainingConfig, TrainingResult, network_forecast, train_network
from lstmlens.windows import (
    FlatPanel,
    FloatArray,
    IntArray,
    WindowSpec,
    build_windows,
    split_origins,
    unscale,
)

__all__ = ["ForecastTrace", "LSTMForecaster", "NotFittedError"]

MODEL_NAME = "LSTM"
_ESTIMATOR = "LSTMForecaster"


class NotFittedError(ValueError, AttributeError):
    """Raised when a method needs a fitted forecaster (as scikit-learn's NotFittedError)."""


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
        Length ``I``: ``"y[t-23]"`` .. ``"y[t]"`` (``t`` = the step's last time) then the
        covariates, e.g. ``"hour_sin"``.
    step_labels : tuple of str
        Length ``T``: the time each step covers, e.g. ``"2016-07-01 00:00 – 23:00"``, or
        ``"values 1–24"`` without dates.
    history : (L,)
        The raw values of the input window.
    history_index : pandas.Index
        Their timestamps.
    forecast : (h,)
        Member 0's forecast in original units (equals ``predict()`` for one member).
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
    base: FloatArray = dataclasses.field(repr=False, default_factory=lambda: np.zeros(0))
    log_transform: bool = True

    def to_original_units(self, network_output: FloatArray) -> FloatArray:
        """Map the network's output (O,) or (1, O) to forecasts in the data's units.

        ``forecast = ℓ · exp(base + output)`` with the log transform, else
        ``ℓ · (base + output)``.
        """
        output = np.asarray(network_output, dtype=np.float64).reshape(-1)
        if output.shape != self.base.shape:
            raise ValueError(
                f"network_output must have {self.base.size} values (the network's output "
                f"size), got shape {np.shape(network_output)}."
            )
        scaled = (self.base + output)[None, :]
        return unscale(scaled, np.array([self.level]), self.log_transform)[0]


# =============================================================================================
# Settings resolved against the data
# =============================================================================================


@dataclass(frozen=True)
class _Context:
    """What predicting needs per series, kept after fit so no data is needed later.

    ``values`` (n, L) are the last ``L`` raw values, ``times`` their timestamps and
    ``covariates`` (n, L, K) the raw user covariates at those times (K may be 0).
    """

    values: FloatArray
    times: tuple[pd.Index, ...]
    covariates: FloatArray


@dataclass(frozen=True)
class _Covariates:
    """How step covariates are made: calendar encodings, then standardised user columns."""

    calendar: bool
    calendar_names: tuple[str, ...]
    user_names: tuple[str, ...]
    user_mean: FloatArray
    user_scale: FloatArray

    @property
    def names(self) -> tuple[str, ...]:
        return self.calendar_names + self.user_names


# =============================================================================================
# The estimator
# =============================================================================================


class LSTMForecaster:
    """A global LSTM forecaster for one or many series (scikit-learn estimator contract).

    Parameters
    ----------
    horizon : int, optional
        Steps to forecast. Default from the frequency (M4's: 48 hourly, 14 daily, 13 weekly,
        18 monthly, 8 quarterly), else two seasons.
    input_size : int, optional
        Past values each forecast sees. Default: a whole number of seasons (168 = a week for
        hourly data, see :mod:`lstmlens.presets`), shortened for short series.
    step_length : int, optional
        Values fed per LSTM step (period folding); must divide ``input_size``. Default: one
        season per step (7 daily steps of 24 for hourly data), else 1.
    season : int, optional
        Seasonal period. Default from the frequency: h→24, D→7, W→52, M/MS→12, Q→4, else 1.
    hidden_size : int, default 64
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
        Training loss on the scaled targets. With the log transform MAE is aligned with
        sMAPE and MASE (see :mod:`lstmlens.losses`).
    learning_rate : float, default 2e-3
        Adam's peak learning rate.
    lr_schedule : {"cosine", "constant"}, default "cosine"
        Cosine decay to 0 over the run, after a 2% warm-up.
    max_steps : int, "auto" or None, default "auto"
        Optimiser steps per ensemble member. ``auto``: about 30 passes over the training
        windows, between 300 and 20000 steps. None: train until ``time_budget``.
    time_budget : float, optional
        Seconds of training for the whole fit (shared by the ensemble members). Fits are
        then no longer bit-reproducible.
    batch_size : int, default 256
        Windows per optimiser step.
    gradient_clip : float or None, default 1.0
        Global gradient norm limit.
    validation_windows : int or "auto", default "auto"
        Forecast origins per series held out at the end of each series for early stopping
        and interval calibration (0 turns both off). ``auto`` gives at least 20 windows
        over the panel.
    early_stopping : bool, default True
        Keep the weights that scored best on the validation windows.
    patience : int or None, default None
        Stop after this many validation checks without improvement (None: train the whole
        budget, then restore the best weights).
    ensemble_size : int, default 1
        Networks trained from different seeds; forecasts are their median.
    random_state : int or None, default 0
        Seed of everything random; the same seed gives a bit-identical model.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the network.
    calendar_features : {"auto", True, False}, default "auto"
        Append calendar encodings (hour, day of week, month; sin/cos) to every step when
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
        The (first) trained network.
    networks_ : list of LSTMNetwork
        All ensemble members.
    intervals_ : ConformalIntervals or None
        Calibrated on the validation windows; None without validation windows.
    training_ : list of dict
        Per member: steps, best step, validation loss, seconds, loss curves.
    """

    _FIT_REQUIRED: ClassVar[str] = "networks_"

    def __init__(
        self,
        horizon: int | None = None,
        input_size: int | None = None,
        step_length: int | None = None,
        season: int | None = None,
        hidden_size: int = 64,
        num_layers: int = 1,
        strategy: str = "direct",
        baseline: str = "seasonal_naive",
        scaling: str = "level",
        log: bool | str = "auto",
        loss: str = "mae",
        learning_rate: float = 2e-3,
        lr_schedule: str = "cosine",
        max_steps: int | str | None = "auto",
        time_budget: float | None = None,
        batch_size: int = 256,
        gradient_clip: float | None = 1.0,
        validation_windows: int | str = "auto",
        early_stopping: bool = True,
        patience: int | None = None,
        ensemble_size: int = 1,
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
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters as a dict (``deep`` is accepted for sklearn)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> LSTMForecaster:
        """Set constructor parameters by name; returns ``self``. Takes effect at the next fit."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for LSTMForecaster; valid parameters are: "
                    f"{', '.join(valid)}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not _same(value, defaults[name])
        ]
        return f"LSTMForecaster({', '.join(changed)})"

    def _check_fitted(self) -> None:
        if not hasattr(self, self._FIT_REQUIRED):
            raise NotFittedError(
                "This LSTMForecaster instance is not fitted yet. Call 'fit' with appropriate "
                "arguments before using this estimator."
            )

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
        _validate_params(self)
        panel = self._load(data)
        plan = self._plan(panel)
        self._warn_constant(panel)
        flat = self._flat_panel(panel, plan.covariates)
        spec = plan.spec
        windows = self._resolve_validation_windows(panel, spec)
        train, validation = split_origins(flat.lengths, spec, windows)
        if train[0].size == 0:
            raise DataError(
                f"no training windows: every series is too short for input_size="
                f"{spec.input_size} + horizon={spec.horizon} plus {windows} validation "
                "window(s); lower input_size, horizon or validation_windows."
            )
        results = self._train_members(flat, spec, train, validation)
        networks = [result.network for result in results]
        intervals = self._calibrate(networks, flat, spec, validation)
        # Learned state is set only now, so a failed fit leaves no half-fitted object.
        self.spec_ = spec
        self.season_ = spec.season
        self.horizon_ = spec.horizon
        self.input_size_ = spec.input_size
        self.step_length_ = spec.step_length
        self.log_ = spec.log
        self.freq_ = panel.freq
        self.covariates_ = plan.covariates
        self.feature_names_ = _feature_names(spec, plan.covariates)
        self.ids_ = panel.ids
        self.networks_ = networks
        self.network_ = networks[0]
        self.intervals_ = intervals
        self.training_ = [_result_summary(result) for result in results]
        self.training_summary_ = _panel_summary(panel)
        self.context_ = _context_of(panel, spec.input_size)
        self._training_panel = panel
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

    def _plan(self, panel: Panel) -> _Plan:
        """Resolve every ``None``/``"auto"`` setting against the data."""
        freq = panel.freq if panel.freq is not None else self.freq
        season = self.season if self.season is not None else presets.default_season(freq)
        horizon = self.horizon if self.horizon is not None else presets.default_horizon(
            freq, season
        )
        input_size = self._input_size(panel, season, horizon)
        step_length = self.step_length or presets.default_step_length(season, input_size)
        data_module.check_min_length(
            panel,
            input_size + horizon,
            what=f"input_size + horizon = {input_size} + {horizon}",
        )
        log = self._use_log(panel)
        covariates = self._covariate_plan(panel, freq)
        if covariates.user_names and self.strategy == "recursive":
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
            strategy=self.strategy,  # type: ignore[arg-type]
            log=log,
            baseline=self.baseline,  # type: ignore[arg-type]
            n_covariates=len(covariates.names),
            scale_by_level=self.scaling == "level",
        )
        return _Plan(spec=spec, covariates=covariates)

    def _input_size(self, panel: Panel, season: int, horizon: int) -> int:
        if self.input_size is not None:
            return int(self.input_size)
        preferred = presets.default_input_size(season, horizon)
        unit = self.step_length or (season if season > 1 else 1)
        shortest = int(panel.lengths().min())
        # Shorten the default window (in whole steps) until the shortest series fits it.
        size = preferred
        while size - unit >= max(unit, season) and size + horizon > shortest:
            size -= unit
        return size

    def _use_log(self, panel: Panel) -> bool:
        if self.log is False:
            return False
        positive = [np.all(v > 0.0) for v in panel.values]
        if self.log == "auto":
            return bool(all(positive))
        bad = [sid for sid, ok in zip(panel.ids, positive, strict=True) if not ok]
        if bad:
            raise DataError(
                f"log=True needs positive values, but series {_listing(bad)} have values "
                "<= 0; use log=False (or 'auto') or shift the data."
            )
        return True

    def _covariate_plan(self, panel: Panel, freq: str | None) -> _Covariates:
        calendar = self.calendar_features
        if calendar is True and not panel.has_dates:
            raise ValueError(
                "calendar_features=True needs dates, but the data's timestamps are integer "
                "positions; load data with a date column or use calendar_features='auto'."
            )
        use_calendar = bool(calendar) and panel.has_dates and freq is not None
        names: tuple[str, ...] = ()
        if use_calendar:
            _, names = data_module.calendar_features(
                pd.DatetimeIndex(panel.timestamps[0][:1]), freq
            )
        user_names = tuple(panel.covariate_names) if panel.covariates is not None else ()
        mean = np.zeros(len(user_names))
        scale = np.ones(len(user_names))
        if panel.covariates is not None and user_names:
            stacked = np.concatenate(panel.covariates)
            mean = stacked.mean(axis=0)
            spread = stacked.std(axis=0)
            scale = np.where(spread > 0.0, spread, 1.0)
        return _Covariates(use_calendar and bool(names), names, user_names, mean, scale)

    def _resolve_validation_windows(self, panel: Panel, spec: WindowSpec) -> int:
        if self.validation_windows != "auto":
            return int(self.validation_windows)
        wanted = math.ceil(20 / len(panel))
        # Leave each series at least as many training origins as validation origins.
        room = int(panel.lengths().min()) - spec.input_size - 2 * spec.horizon
        return max(0, min(wanted, room // 2))

    def _warn_constant(self, panel: Panel) -> None:
        constant = panel.constant_ids()
        if constant:
            warnings.warn(
                f"series {_listing(list(constant))} are constant; the model can only learn to "
                "repeat their value. Remove them if that is not intended.",
                UserWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------------ training
    def _training_config(self, n_train: int) -> TrainingConfig:
        max_steps: int | None
        if self.max_steps == "auto":
            passes = 30 * n_train / self.batch_size
            max_steps = int(min(20000, max(300, math.ceil(passes))))
            if self.time_budget is not None:
                max_steps = None
        else:
            max_steps = None if self.max_steps is None else int(self.max_steps)
        budget = None if self.time_budget is None else self.time_budget / self.ensemble_size
        planned = max_steps if max_steps is not None else 10000
        return TrainingConfig(
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            loss=self.loss,
            learning_rate=self.learning_rate,
            schedule=self.lr_schedule,  # type: ignore[arg-type]
            max_steps=max_steps,
            time_budget=budget,
            batch_size=self.batch_size,
            gradient_clip=self.gradient_clip,
            eval_every=max(25, min(250, planned // 40)),
            patience=self.patience if self.early_stopping else None,
            dtype=self.dtype,
        )

    def _train_members(
        self,
        flat: FlatPanel,
        spec: WindowSpec,
        train: tuple[IntArray, IntArray],
        validation: tuple[IntArray, IntArray],
    ) -> list[TrainingResult]:
        config = self._training_config(train[0].size)
        if not self.early_stopping:
            validation = (validation[0][:0], validation[1][:0])
        rngs = np.random.default_rng(self.random_state).spawn(self.ensemble_size)
        with _ProgressBar(self.progress, config, self.ensemble_size) as bar:
            results = []
            for member, rng in enumerate(rngs):
                bar.start_member(member)
                results.append(
                    train_network(flat, spec, train, validation, config, rng, bar.on_step)
                )
        return results

    def _calibrate(
        self,
        networks: list[LSTMNetwork],
        flat: FlatPanel,
        spec: WindowSpec,
        validation: tuple[IntArray, IntArray],
    ) -> ConformalIntervals | None:
        """Fit conformal intervals on the validation windows' relative errors.

        With early stopping off the validation windows were still kept out of training,
        so they remain honest calibration data.
        """
        series, origins = validation
        if series.size == 0:
            return None
        forecast, levels = _forecast_windows(networks, flat, series, origins, spec)
        positions = (flat.starts[series] + origins)[:, None] + np.arange(1, spec.horizon + 1)
        actual = flat.values[positions]
        return ConformalIntervals().fit((actual - forecast) / levels[:, None])

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
            Steps to forecast, at most ``horizon`` for the direct strategy; default
            ``horizon``.
        levels : iterable of float, optional
            Coverage levels in percent for conformal intervals, e.g. ``(80, 95)``.
        data : optional
            Forecast from the end of these series instead of the fitted ones (same ids or
            new ones; no refit). Each series needs at least ``input_size`` values.

        Returns
        -------
        pandas.DataFrame
            ``unique_id, ds, LSTM`` and, per level, ``LSTM-lo-<level>, LSTM-hi-<level>``.
        """
        self._check_fitted()
        steps = self._check_h(h)
        chosen = self._check_levels(levels, steps)
        ids, context = (self.ids_, self.context_) if data is None else self._context_from(data)
        flat = self._context_flat(context, extra=steps if self.spec_.strategy == "recursive" else 0)
        series = np.arange(flat.n_series, dtype=np.int64)
        origins = np.full(flat.n_series, self.spec_.input_size - 1, dtype=np.int64)
        point, window_levels = _forecast_windows(
            self.networks_, flat, series, origins, self.spec_, steps
        )
        columns: dict[str, FloatArray] = {MODEL_NAME: point[:, :steps]}
        if chosen:
            assert self.intervals_ is not None
            bounds = self.intervals_.interval(point, chosen, scale=window_levels)
            for level in chosen:
                lo, hi = bounds[level]
                columns[f"{MODEL_NAME}-lo-{_level_name(level)}"] = lo[:, :steps]
                columns[f"{MODEL_NAME}-hi-{_level_name(level)}"] = hi[:, :steps]
        future = [data_module.future_timestamps(t, self.freq_, steps) for t in context.times]
        return data_module.to_long_frame(
            ids, future, columns, id_col=self.id_col, time_col=self.time_col
        )

    def _check_h(self, h: int | None) -> int:
        if h is None:
            return self.horizon_
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
            if isinstance(level, bool) or not isinstance(level, int | float | np.number) or not (
                0 < float(level) < 100
            ):
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
        return [float(level) if not float(level).is_integer() else int(level) for level in chosen]

    # ------------------------------------------------------------------ update (streaming)
    def update(self, new_observations: Any) -> LSTMForecaster:
        """Append new observations to the series' context, without refitting.

        Only the last ``input_size`` values of each series are kept, so an update costs
        O(input_size) whatever the length of the history, and the next :meth:`predict`
        equals a prediction from the whole history (``predict(data=full_history)``).

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
        length = self.spec_.input_size
        for sid, (new_values, new_times, new_covariates) in additions.items():
            i = self.ids_.index(sid)
            values[i] = np.concatenate([values[i], new_values])[-length:]
            times[i] = times[i].append(new_times)[-length:]
            covariates[i] = np.concatenate([covariates[i], new_covariates])[-length:]
        self.context_ = _Context(values, tuple(times), covariates)
        return self

    def _parse_update(
        self, new_observations: Any
    ) -> dict[str, tuple[FloatArray, pd.Index, FloatArray]]:
        n_user = len(self.covariates_.user_names)
        if isinstance(new_observations, Mapping):
            if n_user:
                raise ValueError(
                    f"this model uses the covariates {list(self.covariates_.user_names)}; pass "
                    "new observations as a DataFrame with those columns, not a mapping."
                )
            parsed: dict[str, tuple[FloatArray, pd.Index, FloatArray]] = {}
            for sid, value in new_observations.items():
                i = self._known_index(str(sid))
                new_values = np.atleast_1d(np.asarray(value, dtype=np.float64))
                stamps = data_module.future_timestamps(
                    self.context_.times[i], self.freq_, new_values.size
                )
                parsed[str(sid)] = (new_values, stamps, np.zeros((new_values.size, 0)))
        else:
            panel = data_module.load_panel(
                new_observations,
                id_col=self.id_col,
                time_col=self.time_col,
                target_col=self.target_col,
                freq=self.freq_,
                missing="error",
            )
            parsed = {}
            for k, sid in enumerate(panel.ids):
                self._known_index(sid)
                cov = panel.covariates[k] if panel.covariates is not None else np.zeros((0, 0))
                if tuple(panel.covariate_names) != self.covariates_.user_names:
                    raise DataError(
                        f"new observations have covariates {list(panel.covariate_names)} but the "
                        f"model was fitted with {list(self.covariates_.user_names)}; pass the "
                        "same columns."
                    )
                parsed[sid] = (
                    panel.values[k],
                    panel.timestamps[k],
                    cov.reshape(panel.values[k].size, n_user),
                )
        for sid, (new_values, stamps, _) in parsed.items():
            self._check_continues(sid, new_values, stamps)
        return parsed

    def _known_index(self, sid: str) -> int:
        if sid not in self.ids_:
            raise DataError(
                f"unknown series id {sid!r} in the new observations; the model knows "
                f"{_listing(list(self.ids_))}. Refit to add new series."
            )
        return self.ids_.index(sid)

    def _check_continues(self, sid: str, values: FloatArray, stamps: pd.Index) -> None:
        i = self.ids_.index(sid)
        expected = data_module.future_timestamps(self.context_.times[i], self.freq_, len(stamps))
        if not expected.equals(pd.Index(stamps)):
            raise DataError(
                f"series {sid!r}: new observations must continue right after its last "
                f"timestamp {self.context_.times[i][-1]}, i.e. start at {expected[0]} "
                f"without gaps; got {stamps[0]}..{stamps[-1]}."
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
        """Rolling-origin evaluation: forecasts from ``n_windows`` cutoffs at each series' end.

        A copy of this forecaster (same parameters, ``horizon=h``) is fitted on the data up
        to the earliest cutoff, then forecasts from every cutoff using the actual values up
        to it (``refit=True`` refits at every cutoff instead). ``self`` is not changed.

        Parameters
        ----------
        data : DataFrame, path, array or Panel
            The full series.
        n_windows : int
            Number of cutoffs per series.
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
            ``unique_id, ds, cutoff, y, LSTM``: ``cutoff`` is the last timestamp seen by the
            forecast, ``y`` the actual value at ``ds``.
        """
        _check_positive_int(n_windows, "n_windows", "the number of forecast origins")
        panel = self._load(data)
        steps = h if h is not None else self.horizon
        if steps is None:
            steps = self.clone()._plan(panel).spec.horizon
        _check_positive_int(steps, "h", "the horizon of each backtest forecast")
        step = steps if step_size is None else step_size
        _check_positive_int(step, "step_size", "the spacing of the cutoffs")
        held_out = steps + (n_windows - 1) * step
        data_module.check_min_length(
            panel,
            held_out + 1,
            what=f"a backtest of {n_windows} windows of h={steps} every {step} values",
        )
        frames = []
        model = None
        for k in reversed(range(n_windows)):
            hidden = steps + k * step  # values after this cutoff
            if model is None or refit:
                model = self.clone().set_params(horizon=steps)
                model.fit(panel.drop_last(hidden))
            frames.append(model._forecast_at(panel, hidden, steps))
        return pd.concat(frames, ignore_index=True)

    def _forecast_at(self, panel: Panel, hidden: int, steps: int) -> pd.DataFrame:
        """Forecasts from the cutoff ``hidden`` values before each series' end."""
        flat = self._flat_panel(panel, self.covariates_)
        series = np.arange(flat.n_series, dtype=np.int64)
        origins = flat.lengths - hidden - 1
        _check_window_room(panel, origins, self.spec_.input_size)
        point, _ = _forecast_windows(self.networks_, flat, series, origins, self.spec_, steps)
        positions = (flat.starts + origins)[:, None] + np.arange(1, steps + 1)
        frame = data_module.to_long_frame(
            panel.ids,
            [t[o + 1 : o + 1 + steps] for t, o in zip(panel.timestamps, origins, strict=True)],
            {"y": flat.values[positions], MODEL_NAME: point[:, :steps]},
            id_col=self.id_col,
            time_col=self.time_col,
        )
        cutoffs = [t[o] for t, o in zip(panel.timestamps, origins, strict=True)]
        frame.insert(2, "cutoff", np.repeat(np.array(cutoffs, dtype=object), steps))
        if panel.has_dates:
            frame["cutoff"] = pd.to_datetime(frame["cutoff"])
        else:
            frame["cutoff"] = frame["cutoff"].astype(np.int64)
        return frame

    def clone(self) -> LSTMForecaster:
        """An unfitted copy with the same parameters."""
        return type(self)(**self.get_params())

    # ------------------------------------------------------------------ fitted values
    def fitted_values(self, data: Any = None) -> pd.DataFrame:
        """In-sample one-step-ahead fits: the forecast of each value from the window before it.

        Parameters
        ----------
        data : optional
            Series to fit; default the training data (needed after :meth:`load`).

        Returns
        -------
        pandas.DataFrame
            ``unique_id, ds, y, LSTM`` for every value that has a full input window before it.
        """
        self._check_fitted()
        if data is None:
            panel = getattr(self, "_training_panel", None)
            if panel is None:
                raise ValueError(
                    "this model was loaded from a file and does not keep its training data; "
                    "pass the series: fitted_values(data)."
                )
        else:
            panel = self._load(data)
        flat = self._flat_panel(panel, self.covariates_)
        length = self.spec_.input_size
        counts = np.maximum(flat.lengths - length, 0)
        series = np.repeat(np.arange(flat.n_series, dtype=np.int64), counts)
        origins = np.concatenate([np.arange(length - 1, n - 1) for n in flat.lengths])
        origins = origins.astype(np.int64)
        point, _ = _forecast_windows(self.networks_, flat, series, origins, self.spec_, 1)
        frame = pd.DataFrame(
            {
                self.id_col: np.array(panel.ids, dtype=object)[series],
                self.time_col: np.concatenate(
                    [np.asarray(t[length:]) for t in panel.timestamps]
                ),
                self.target_col: flat.values[flat.starts[series] + origins + 1],
                MODEL_NAME: point[:, 0],
            }
        )
        return frame

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
        one = _Context(
            self.context_.values[i : i + 1],
            self.context_.times[i : i + 1],
            self.context_.covariates[i : i + 1],
        )
        spec = self.spec_
        extra = spec.horizon if spec.strategy == "recursive" else 0
        flat = self._context_flat(one, extra=extra)
        zero = np.zeros(1, dtype=np.int64)
        origin = np.full(1, spec.input_size - 1, dtype=np.int64)
        batch = build_windows(
            flat, zero, origin, spec, with_targets=False, dtype=self.network_.dtype.type
        )
        result = self.network_.forward(batch.inputs, record_trace=True)
        assert result.trace is not None
        forecast, _ = _forecast_windows(self.networks_[:1], flat, zero, origin, spec)
        times = one.times[0]
        return ForecastTrace(
            series_id=self.ids_[i],
            network_trace=result.trace,
            inputs=batch.inputs[0],
            feature_names=self.feature_names_,
            step_labels=_step_labels(times, spec.step_length, self.freq_),
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
        :meth:`load`.

        Parameters
        ----------
        path : str or os.PathLike
            Target file, e.g. ``"model.lstmlens"``.
        overwrite : bool, default False
            Replace an existing file.
        """
        self._check_fitted()
        tensors: dict[str, np.ndarray] = {}
        for k, network in enumerate(self.networks_):
            for name, value in network.parameters.items():
                tensors[f"member{k}.{name}"] = np.asarray(value)
        tensors["context.values"] = self.context_.values
        tensors["context.covariates"] = self.context_.covariates
        tensors["context.times"] = _times_to_int(self.context_.times)
        if self.intervals_ is not None:
            tensors["intervals.abs_residuals"] = self.intervals_.abs_residuals_
        metadata = {
            "estimator": _ESTIMATOR,
            "params": self.get_params(),
            "fitted": self._fitted_metadata(),
            "training": self.training_,
            "training_summary": self.training_summary_,
        }
        save_model_file(path, tensors, metadata, overwrite=overwrite)

    def _fitted_metadata(self) -> dict[str, Any]:
        spec = self.spec_
        times = self.context_.times
        return {
            "spec": dataclasses.asdict(spec),
            "freq": self.freq_,
            "ids": list(self.ids_),
            "ensemble_size": len(self.networks_),
            "hidden_size": self.network_.hidden_size,
            "num_layers": self.network_.num_layers,
            "dtype": str(self.network_.dtype),
            "calendar": self.covariates_.calendar,
            "calendar_names": list(self.covariates_.calendar_names),
            "covariate_names": list(self.covariates_.user_names),
            "covariate_mean": self.covariates_.user_mean.tolist(),
            "covariate_scale": self.covariates_.user_scale.tolist(),
            "feature_names": list(self.feature_names_),
            "time_kind": "datetime" if isinstance(times[0], pd.DatetimeIndex) else "integer",
            "time_zone": str(getattr(times[0], "tz", None) or "") or None,
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LSTMForecaster:
        """Load a model saved by :meth:`save`; shapes and dtypes are checked.

        Raises
        ------
        ModelFileError
            If the file is missing, damaged, not an lstmlens forecaster, or its tensors do
            not match its metadata.
        """
        tensors, metadata = load_model_file(path)
        if metadata.get("estimator") != _ESTIMATOR:
            raise ModelFileError(
                f"{path} holds a {metadata.get('estimator')!r}, not an {_ESTIMATOR}; load it "
                "with the class that saved it."
            )
        try:
            fitted = metadata["fitted"]
            model = cls(**metadata["params"])
            spec = WindowSpec(**fitted["spec"])
            ids = tuple(str(i) for i in fitted["ids"])
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(
                f"{path} has damaged model metadata ({error}); save the model again."
            ) from error
        validate_tensors(tensors, _expected_tensors(fitted, spec, len(ids), tensors), source=path)
        model._restore(tensors, metadata, spec, ids)
        return model

    def _restore(
        self, tensors: dict[str, np.ndarray], metadata: dict[str, Any], spec: WindowSpec,
        ids: tuple[str, ...],
    ) -> None:
        fitted = metadata["fitted"]
        self.spec_ = spec
        self.season_ = spec.season
        self.horizon_ = spec.horizon
        self.input_size_ = spec.input_size
        self.step_length_ = spec.step_length
        self.log_ = spec.log
        self.freq_ = fitted["freq"]
        self.covariates_ = _Covariates(
            calendar=bool(fitted["calendar"]),
            calendar_names=tuple(fitted["calendar_names"]),
            user_names=tuple(fitted["covariate_names"]),
            user_mean=np.asarray(fitted["covariate_mean"], dtype=np.float64),
            user_scale=np.asarray(fitted["covariate_scale"], dtype=np.float64),
        )
        self.feature_names_ = tuple(fitted["feature_names"])
        self.ids_ = ids
        self.networks_ = [
            LSTMNetwork(
                {
                    name: tensors[f"member{k}.{name}"]
                    for name in parameter_shapes(
                        spec.input_features, fitted["hidden_size"], fitted["num_layers"],
                        spec.output_size,
                    )
                }
            )
            for k in range(int(fitted["ensemble_size"]))
        ]
        self.network_ = self.networks_[0]
        self.intervals_ = (
            ConformalIntervals().fit(tensors["intervals.abs_residuals"])
            if "intervals.abs_residuals" in tensors
            else None
        )
        self.training_ = list(metadata.get("training", []))
        self.training_summary_ = dict(metadata.get("training_summary", {}))
        times = _times_from_int(tensors["context.times"], fitted["time_kind"], fitted["time_zone"],
                                self.freq_)
        self.context_ = _Context(
            np.array(tensors["context.values"]), times, np.array(tensors["context.covariates"])
        )

    # ------------------------------------------------------------------ internals
    def _flat_panel(self, panel: Panel, covariates: _Covariates) -> FlatPanel:
        """Series and their step covariates, end to end, for window gathering."""
        user = panel.covariates if panel.covariates is not None else None
        if tuple(panel.covariate_names if user is not None else ()) != covariates.user_names:
            raise DataError(
                f"the data has covariates {list(panel.covariate_names)} but the model uses "
                f"{list(covariates.user_names)}; pass the same columns as in fit."
            )
        per_series = [
            _step_covariates(
                times, None if user is None else user[k], covariates, panel.freq or self.freq
            )
            for k, times in enumerate(panel.timestamps)
        ]
        return FlatPanel.from_series(list(panel.values), per_series)

    def _context_flat(self, context: _Context, extra: int) -> FlatPanel:
        """The context windows as a flat panel, with ``extra`` future slots (NaN values)."""
        n, length = context.values.shape
        values = np.concatenate([context.values, np.full((n, extra), np.nan)], axis=1)
        covariates = []
        for k, times in enumerate(context.times):
            stamps = times
            if extra:
                stamps = times.append(data_module.future_timestamps(times, self.freq_, extra))
            user = context.covariates[k] if extra == 0 else None
            covariates.append(_step_covariates(stamps, user, self.covariates_, self.freq_))
        return FlatPanel.from_series(list(values), covariates)

    def _context_from(self, data: Any) -> tuple[tuple[str, ...], _Context]:
        panel = self._load(data)
        data_module.check_min_length(
            panel, self.spec_.input_size, what=f"input_size = {self.spec_.input_size}"
        )
        if self.log_:
            self._use_log(panel.subset(panel.ids))  # same positivity check as in fit
        return panel.ids, _context_of(panel, self.spec_.input_size)


@dataclass(frozen=True)
class _Plan:
    spec: WindowSpec
    covariates: _Covariates


# =============================================================================================
# Forecasting windows with the ensemble
# =============================================================================================


def _forecast_windows(
    networks: Sequence[LSTMNetwork],
    flat: FlatPanel,
    series: IntArray,
    origins: IntArray,
    spec: WindowSpec,
    steps: int | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Median forecast of the members from the given windows, original units.

    Returns
    -------
    forecast : (N, h) where h = ``spec.horizon`` (direct) or ``steps`` (recursive)
    levels : (N,) the windows' levels
    """
    dtype = networks[0].dtype.type
    batch = build_windows(flat, series, origins, spec, with_targets=False, dtype=dtype)
    if spec.strategy == "direct":
        members = [
            unscale(batch.base + network_forecast(network, batch.inputs), batch.levels, spec.log)
            for network in networks
        ]
    else:
        horizon = steps if steps is not None else spec.horizon
        members = [
            _recursive(network, flat, series, origins, spec, horizon) for network in networks
        ]
    stacked = np.stack(members)  # (members, N, h)
    forecast = stacked[0] if len(networks) == 1 else np.median(stacked, axis=0)
    return np.asarray(forecast, dtype=np.float64), batch.levels


def _recursive(
    network: LSTMNetwork,
    flat: FlatPanel,
    series: IntArray,
    origins: IntArray,
    spec: WindowSpec,
    horizon: int,
) -> FloatArray:
    """Roll a one-step network ``horizon`` times, feeding each forecast back as a value."""
    length = spec.input_size
    span = length + horizon
    positions = (flat.starts[series] + origins - length + 1)[:, None] + np.arange(span)
    positions = np.minimum(positions, flat.values.size - 1)  # future slots may run past the end
    values = flat.values[positions].copy()  # (N, L + h)
    local = FlatPanel(
        values.reshape(-1),
        flat.covariates[positions].reshape(values.size, -1),
        np.arange(values.shape[0], dtype=np.int64) * span,
        np.full(values.shape[0], span, dtype=np.int64),
    )
    rows = np.arange(values.shape[0], dtype=np.int64)
    for k in range(horizon):
        origin = np.full(rows.size, length - 1 + k, dtype=np.int64)
        batch = build_windows(local, rows, origin, spec, with_targets=False,
                              dtype=network.dtype.type)
        output = network_forecast(network, batch.inputs)
        step = unscale(batch.base + output, batch.levels, spec.log)[:, 0]
        local.values[local.starts + length + k] = step
    return local.values.reshape(rows.size, span)[:, length:]


# =============================================================================================
# Small helpers
# =============================================================================================


def _step_covariates(
    times: pd.Index, user: FloatArray | None, plan: _Covariates, freq: str | None
) -> FloatArray:
    """Covariates at every time: calendar encodings then standardised user columns."""
    parts = []
    if plan.calendar:
        features, _ = data_module.calendar_features(pd.DatetimeIndex(times), freq)
        parts.append(features)
    if plan.user_names:
        if user is None:
            raise DataError(f"the model needs the covariates {list(plan.user_names)}.")
        parts.append((user - plan.user_mean) / plan.user_scale)
    if not parts:
        return np.zeros((len(times), 0))
    return np.concatenate(parts, axis=1)


def _context_of(panel: Panel, length: int) -> _Context:
    """The last ``length`` values, timestamps and covariates of every series."""
    values = np.stack([v[-length:] for v in panel.values])
    times = tuple(t[-length:] for t in panel.timestamps)
    if panel.covariates is None:
        covariates = np.zeros((len(panel), length, 0))
    else:
        covariates = np.stack([c[-length:] for c in panel.covariates])
    return _Context(values, times, covariates)


def _feature_names(spec: WindowSpec, covariates: _Covariates) -> tuple[str, ...]:
    """``y[t-S+1]`` .. ``y[t]`` (t = the step's last time), then covariate names."""
    values = tuple(
        "y[t]" if lag == 0 else f"y[t-{lag}]" for lag in range(spec.step_length - 1, -1, -1)
    )
    return values + covariates.names


def _step_labels(times: pd.Index, step_length: int, freq: str | None) -> tuple[str, ...]:
    """Human label of the span of every step."""
    count = len(times) // step_length
    labels = []
    for s in range(count):
        first, last = s * step_length, (s + 1) * step_length - 1
        if not isinstance(times, pd.DatetimeIndex):
            labels.append(
                f"value {first + 1}" if step_length == 1 else f"values {first + 1}–{last + 1}"
            )
            continue
        labels.append(_date_span(times[first], times[last], step_length == 1, times))
    return tuple(labels)


def _date_span(start: pd.Timestamp, end: pd.Timestamp, single: bool, times: pd.Index) -> str:
    has_time = any(t.hour or t.minute or t.second for t in times)
    stamp = "%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d"
    if single:
        return start.strftime(stamp)
    if has_time and start.date() == end.date():
        return f"{start.strftime(stamp)} – {end.strftime('%H:%M')}"
    return f"{start.strftime(stamp)} – {end.strftime(stamp)}"


def _times_to_int(times: tuple[pd.Index, ...]) -> np.ndarray:
    """Timestamps as int64 (nanoseconds since the epoch for dates, positions otherwise)."""
    if isinstance(times[0], pd.DatetimeIndex):
        return np.stack([pd.DatetimeIndex(t).as_unit("ns").asi8 for t in times])
    return np.stack([np.asarray(t, dtype=np.int64) for t in times])


def _times_from_int(
    stored: np.ndarray, kind: str, zone: str | None, freq: str | None
) -> tuple[pd.Index, ...]:
    if kind == "datetime":
        result = []
        for row in stored:
            index = pd.DatetimeIndex(pd.to_datetime(row, unit="ns", utc=zone is not None))
            if zone is not None:
                index = index.tz_convert(zone)
            if freq is not None:
                index = pd.DatetimeIndex(index, freq=freq)
            result.append(index)
        return tuple(result)
    return tuple(_integer_index(row) for row in stored)


def _integer_index(row: np.ndarray) -> pd.Index:
    step = int(row[1] - row[0]) if row.size > 1 else 1
    if row.size > 1 and np.all(np.diff(row) == step) and step > 0:
        return pd.RangeIndex(int(row[0]), int(row[-1]) + step, step)
    return pd.Index(row.astype(np.int64))


def _expected_tensors(
    fitted: Mapping[str, Any], spec: WindowSpec, n_series: int, tensors: Mapping[str, Any]
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Names, shapes and dtypes the file must hold for its metadata."""
    dtype = str(fitted["dtype"])
    shapes = parameter_shapes(
        spec.input_features, int(fitted["hidden_size"]), int(fitted["num_layers"]),
        spec.output_size,
    )
    expected = {
        f"member{k}.{name}": (shape, dtype)
        for k in range(int(fitted["ensemble_size"]))
        for name, shape in shapes.items()
    }
    n_user = len(fitted["covariate_names"])
    expected["context.values"] = ((n_series, spec.input_size), "float64")
    expected["context.covariates"] = ((n_series, spec.input_size, n_user), "float64")
    expected["context.times"] = ((n_series, spec.input_size), "int64")
    if "intervals.abs_residuals" in tensors:
        rows = int(np.shape(tensors["intervals.abs_residuals"])[0])
        expected["intervals.abs_residuals"] = ((rows, spec.horizon), "float64")
    return expected


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
    starts = [t[0] for t in panel.timestamps]
    ends = [t[-1] for t in panel.timestamps]
    return {
        "n_series": len(panel),
        "n_observations": int(lengths.sum()),
        "min_length": int(lengths.min()),
        "max_length": int(lengths.max()),
        "first_timestamp": str(min(starts)),
        "last_timestamp": str(max(ends)),
        "freq": panel.freq,
    }


def _check_window_room(panel: Panel, origins: IntArray, input_size: int) -> None:
    short = [sid for sid, o in zip(panel.ids, origins, strict=True) if o < input_size - 1]
    if short:
        raise DataError(
            f"series {_listing(short)} have too few values before the cutoff for an input "
            f"window of {input_size}; use fewer windows or a smaller input_size."
        )


def _level_name(level: float) -> str:
    return f"{level:g}"


def _listing(items: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def _check_positive_int(value: Any, name: str, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1 ({meaning}), got {value!r}.")


# =============================================================================================
# Parameter validation (at fit time, as scikit-learn does)
# =============================================================================================

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
}


def _validate_params(model: LSTMForecaster) -> None:
    """Raise ValueError naming the first bad parameter, its value and what is allowed."""
    for name, allowed in _CHOICES.items():
        value = getattr(model, name)
        if not any(value is option or (type(value) is type(option) and value == option)
                   for option in allowed):
            raise ValueError(
                f"{name} must be one of {list(allowed)}, got {value!r}."
            )
    for name in ("horizon", "input_size", "step_length", "season"):
        _optional_int(model, name, minimum=1)
    for name in ("hidden_size", "num_layers", "batch_size", "ensemble_size"):
        _positive_int(model, name)
    if model.max_steps not in ("auto", None):
        _positive_int(model, "max_steps")
    if model.max_steps is None and model.time_budget is None:
        raise ValueError(
            "max_steps=None trains until time_budget, but time_budget is None too; set "
            "max_steps (e.g. 'auto' or 5000) or time_budget in seconds."
        )
    if model.validation_windows != "auto":
        _optional_int(model, "validation_windows", minimum=0)
    _optional_int(model, "patience", minimum=1)
    for name in ("learning_rate", "time_budget", "gradient_clip"):
        value = getattr(model, name)
        if value is None and name != "learning_rate":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}.")
    if model.random_state is not None and (
        isinstance(model.random_state, bool) or not isinstance(model.random_state, int | np.integer)
    ):
        raise ValueError(
            f"random_state must be an int or None, got {model.random_state!r}; pass a seed "
            "such as 0 so the same fit gives the same model."
        )
    if not isinstance(model.early_stopping, bool) or not isinstance(model.progress, bool):
        raise ValueError("early_stopping and progress must be True or False.")
    for name in ("id_col", "time_col", "target_col"):
        if not isinstance(getattr(model, name), str):
            raise ValueError(f"{name} must be a column name (str), got {getattr(model, name)!r}.")
    if (
        model.input_size is not None
        and model.step_length is not None
        and model.input_size % model.step_length
    ):
        raise ValueError(
            f"step_length={model.step_length} must divide input_size={model.input_size} so "
            "the window folds into whole steps; e.g. input_size=168 with step_length=24."
        )


def _positive_int(model: LSTMForecaster, name: str) -> None:
    value = getattr(model, name)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")


def _optional_int(model: LSTMForecaster, name: str, minimum: int) -> None:
    value = getattr(model, name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be None or an integer >= {minimum}, got {value!r}.")


# =============================================================================================
# Progress bar (rich, imported lazily so silent fits do not pay for it)
# =============================================================================================


class _ProgressBar:
    """A rich progress bar over the optimiser steps of every member, or nothing."""

    def __init__(self, enabled: bool, config: TrainingConfig, members: int) -> None:
        self.enabled = enabled
        self.config = config
        self.members = members
        self._progress: Any = None
        self._task: Any = None
        self._done = 0
        self._offset = 0

    def __enter__(self) -> _ProgressBar:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]LSTM[/] {task.description}"),
                BarColumn(),
                TextColumn("{task.fields[loss]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            total = None if self.config.max_steps is None else self.config.max_steps * self.members
            self._progress.start()
            self._task = self._progress.add_task("training", total=total, loss="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start_member(self, member: int) -> None:
        self._offset = self._done
        if self._progress is not None:
            self._progress.update(self._task, description=f"member {member + 1}/{self.members}")

    def on_step(self, step: int, planned: int | None, loss: float) -> None:
        self._done = self._offset + step
        if self._progress is not None and step % 10 == 0:
            self._progress.update(self._task, completed=self._done, loss=f"loss {loss:.4f}")
