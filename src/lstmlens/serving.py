"""Forecasting with trained networks: windows in, forecasts in original units out.

Also the per-series *context* a fitted forecaster keeps (the last ``input_size`` values, their
timestamps and covariates), which is all it needs to forecast, stream updates or explain a
forecast after loading, without the training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmlens import data as data_module
from lstmlens.data import DataError, Panel
from lstmlens.network import LSTMNetwork
from lstmlens.settings import CovariatePlan
from lstmlens.training import network_forecast
from lstmlens.windows import FlatPanel, FloatArray, IntArray, WindowSpec, build_windows, unscale

__all__ = [
    "Context",
    "context_flat",
    "context_of",
    "feature_names",
    "flat_panel",
    "forecast_windows",
    "step_labels",
]


@dataclass(frozen=True)
class Context:
    """The end of every series: what predicting needs.

    Attributes
    ----------
    values : (n, L)
        The last ``L`` raw values.
    times : tuple of pandas.Index
        Their timestamps, one index of length ``L`` per series.
    covariates : (n, L, K)
        The raw user covariates at those times (``K`` may be 0).
    """

    values: FloatArray
    times: tuple[pd.Index, ...]
    covariates: FloatArray

    def select(self, index: int) -> Context:
        """The context of one series, as a one-series context."""
        return Context(
            self.values[index : index + 1],
            self.times[index : index + 1],
            self.covariates[index : index + 1],
        )


def context_of(panel: Panel, length: int) -> Context:
    """The last ``length`` values, timestamps and covariates of every series."""
    values = np.stack([v[-length:] for v in panel.values])
    times = tuple(t[-length:] for t in panel.timestamps)
    if panel.covariates is None:
        covariates = np.zeros((len(panel), length, 0))
    else:
        covariates = np.stack([c[-length:] for c in panel.covariates])
    return Context(values, times, covariates)


# --- covariates and flat panels ----------------------------------------------------------------


def step_covariates(
    times: pd.Index, user: FloatArray | None, plan: CovariatePlan, freq: str | None
) -> FloatArray:
    """Covariates at every time: calendar encodings, then standardised user columns."""
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


def flat_panel(panel: Panel, plan: CovariatePlan, freq: str | None) -> FlatPanel:
    """Whole series and their covariates end to end, for gathering windows anywhere."""
    has_user = panel.covariates is not None
    if (tuple(panel.covariate_names) if has_user else ()) != plan.user_names:
        raise DataError(
            f"the data has covariates {list(panel.covariate_names)} but the model uses "
            f"{list(plan.user_names)}; pass the same columns as in fit."
        )
    per_series = [
        step_covariates(
            times, panel.covariates[k] if panel.covariates is not None else None, plan, freq
        )
        for k, times in enumerate(panel.timestamps)
    ]
    return FlatPanel.from_series(list(panel.values), per_series)


def context_flat(context: Context, plan: CovariatePlan, freq: str | None, extra: int) -> FlatPanel:
    """The context as a flat panel with ``extra`` future slots (values NaN until forecast).

    The future slots carry the calendar covariates of the future timestamps, which the
    recursive strategy reads when it rolls forward.
    """
    n = context.values.shape[0]
    values = np.concatenate([context.values, np.full((n, extra), np.nan)], axis=1)
    covariates = []
    for k, times in enumerate(context.times):
        stamps = times
        if extra:
            stamps = times.append(data_module.future_timestamps(times, freq, extra))
        user = context.covariates[k] if extra == 0 else None
        covariates.append(step_covariates(stamps, user, plan, freq))
    return FlatPanel.from_series(list(values), covariates)


# --- forecasting -------------------------------------------------------------------------------


def forecast_windows(
    networks: Sequence[LSTMNetwork],
    flat: FlatPanel,
    series: IntArray,
    origins: IntArray,
    spec: WindowSpec,
    steps: int | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Median forecast of the members from windows ending at ``origins``, original units.

    Returns
    -------
    forecast : (N, h)
        ``h = spec.horizon`` for the direct strategy, ``steps`` (default the horizon) for
        the recursive one.
    levels : (N,)
        The windows' levels, to scale interval widths.
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
        members = [_recursive(net, flat, series, origins, spec, horizon) for net in networks]
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
    """Roll a one-step network ``horizon`` times, feeding each forecast back as a value.

    Each window is copied with its next ``horizon`` slots (their covariates are needed; their
    values are overwritten by the forecasts before any window reads them).
    """
    length = spec.input_size
    span = length + horizon
    positions = (flat.starts[series] + origins - length + 1)[:, None] + np.arange(span)
    positions = np.minimum(positions, flat.values.size - 1)
    values = flat.values[positions].copy()  # (N, L + h)
    rows = np.arange(values.shape[0], dtype=np.int64)
    local = FlatPanel(
        values.reshape(-1),
        flat.covariates[positions].reshape(values.size, -1),
        rows * span,
        np.full(rows.size, span, dtype=np.int64),
    )
    for k in range(horizon):
        origin = np.full(rows.size, length - 1 + k, dtype=np.int64)
        batch = build_windows(
            local, rows, origin, spec, with_targets=False, dtype=network.dtype.type
        )
        output = network_forecast(network, batch.inputs)
        local.values[local.starts + length + k] = unscale(
            batch.base + output, batch.levels, spec.log
        )[:, 0]
    return local.values.reshape(rows.size, span)[:, length:]


# --- names and labels --------------------------------------------------------------------------


def feature_names(spec: WindowSpec, covariates: CovariatePlan) -> tuple[str, ...]:
    """``y[t-S+1]`` .. ``y[t]`` (``t`` = the step's last time), then the covariate names."""
    lags = range(spec.step_length - 1, -1, -1)
    values = tuple("y[t]" if lag == 0 else f"y[t-{lag}]" for lag in lags)
    return values + covariates.names


def step_labels(times: pd.Index, step_length: int) -> tuple[str, ...]:
    """What each step covers: ``"2016-07-01 00:00 – 23:00"``, or ``"values 1–24"``."""
    labels = []
    for s in range(len(times) // step_length):
        first, last = s * step_length, (s + 1) * step_length - 1
        if not isinstance(times, pd.DatetimeIndex):
            single = f"value {first + 1}"
            labels.append(single if step_length == 1 else f"values {first + 1}–{last + 1}")
        else:
            labels.append(_date_span(times, first, last))
    return tuple(labels)


def _date_span(times: pd.DatetimeIndex, first: int, last: int) -> str:
    has_time = bool(np.any((times.hour != 0) | (times.minute != 0) | (times.second != 0)))
    stamp = "%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d"
    start, end = times[first], times[last]
    if first == last:
        return str(start.strftime(stamp))
    if has_time and start.date() == end.date():
        return f"{start.strftime(stamp)} – {end.strftime('%H:%M')}"
    return f"{start.strftime(stamp)} – {end.strftime(stamp)}"
