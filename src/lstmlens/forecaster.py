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
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from lstmlens import backtesting, predict_checks, serving, settings, updates
from lstmlens import data as data_module
from lstmlens.data import DataError, Panel
from lstmlens.fitting import calibrate as _calibrate
from lstmlens.fitting import panel_summary as _panel_summary
from lstmlens.fitting import result_summary as _result_summary
from lstmlens.fitting import train_members as _train_members
from lstmlens.fitting import warn_constant as _warn_constant
from lstmlens.forecast_trace import ForecastTrace, trace_series
from lstmlens.model_file import FittedState, read_model, write_model
from lstmlens.serving import Context
from lstmlens.settings import CovariatePlan
from lstmlens.training import TrainingResult
from lstmlens.updates import Additions
from lstmlens.windows import (
    FlatPanel,
    FloatArray,
    IntArray,
    WindowSpec,
    split_origins,
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
        return _train_members(
            flat, spec, train, validation, members, params=self.get_params(),
            n_jobs=self.n_jobs, early_stopping=self.early_stopping,
            random_state=self.random_state, progress=self.progress,
        )

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
        return predict_checks.check_h(h, self.horizon_, self.spec_.strategy)

    def _check_levels(self, levels: Iterable[float] | None, steps: int) -> list[float]:
        return predict_checks.check_levels(
            levels, steps, self.horizon_, self.intervals_ is not None
        )

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
        self.context_ = updates.append_observations(
            self.context_, self.ids_, additions, self.input_size_
        )
        return self

    def _parse_update(self, new: Any) -> Additions:
        """``{series_id: (values, timestamps, covariates)}`` of the new observations."""
        return updates.parse_update(
            new, ids=self.ids_, context=self.context_, covariates=self.covariates_,
            freq=self.freq_, log=self.log_, id_col=self.id_col, time_col=self.time_col,
            target_col=self.target_col,
        )

    def _known_index(self, sid: str) -> int:
        return updates.known_index(self.ids_, sid)

    def _check_continues(self, sid: str, values: FloatArray, stamps: pd.Index) -> None:
        updates.check_continues(
            sid, values, stamps, ids=self.ids_, context=self.context_, freq=self.freq_,
            log=self.log_,
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
        return backtesting.backtest(self, data, n_windows, step_size, h, refit=refit)

    def _forecast_from_cutoff(self, panel: Panel, unseen: int, steps: int) -> pd.DataFrame:
        """Forecasts from the cutoff ``unseen`` values before each series' end."""
        return backtesting.forecast_from_cutoff(
            panel, unseen, steps, networks=self.networks_, spec=self.spec_,
            covariates=self.covariates_, freq=self.freq_, column=MODEL_NAME,
            id_col=self.id_col, time_col=self.time_col,
        )

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
        return backtesting.in_sample_fits(
            panel, networks=self.networks_, spec=self.spec_, covariates=self.covariates_,
            freq=self.freq_, column=MODEL_NAME, id_col=self.id_col, time_col=self.time_col,
            target_col=self.target_col,
        )

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
        return trace_series(
            self.networks_, self.context_, i, self.ids_[i], spec=self.spec_,
            covariates=self.covariates_, freq=self.freq_, feature_names=self.feature_names_,
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


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (so ``log=1`` is not shown as the default ``True``)."""
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False
