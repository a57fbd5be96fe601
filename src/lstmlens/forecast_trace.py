"""The trace of one forecast: every gate and memory, with the context to read it.

:class:`ForecastTrace` is the contract between :meth:`lstmlens.forecaster.LSTMForecaster.trace`
and its readers (:mod:`lstmlens.explain` and the explorer); :func:`trace_series` builds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lstmlens import data as data_module
from lstmlens import serving
from lstmlens.network import LSTMNetwork
from lstmlens.serving import Context
from lstmlens.settings import CovariatePlan
from lstmlens.trace import NetworkTrace
from lstmlens.windows import FloatArray, WindowSpec, build_windows, unscale

__all__ = ["ForecastTrace", "trace_series"]


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


def trace_series(
    networks: Sequence[LSTMNetwork],
    context: Context,
    index: int,
    series_id: str,
    *,
    spec: WindowSpec,
    covariates: CovariatePlan,
    freq: str | None,
    feature_names: tuple[str, ...],
) -> ForecastTrace:
    """Run member 0 on one series' last input window and record every gate.

    Parameters
    ----------
    networks : sequence of LSTMNetwork
        The ensemble; only the first member is traced.
    context : Context
        The last ``input_size`` values, timestamps and covariates of every series.
    index : int
        Position of the series in ``context``.
    series_id : str
        Its id.
    spec : WindowSpec
        The fitted window settings.
    covariates : CovariatePlan
        The fitted covariate plan.
    freq : str or None
        The data's frequency.
    feature_names : tuple of str
        Names of the ``I`` inputs of every step.

    Returns
    -------
    ForecastTrace
    """
    network = networks[0]
    one = context.select(index)
    extra = spec.horizon if spec.strategy == "recursive" else 0
    flat = serving.context_flat(one, covariates, freq, extra)
    first = np.zeros(1, dtype=np.int64)
    origin = np.full(1, spec.input_size - 1, dtype=np.int64)
    batch = build_windows(
        flat, first, origin, spec, with_targets=False, dtype=network.dtype.type
    )
    result = network.forward(batch.inputs, record_trace=True)
    assert result.trace is not None  # record_trace=True always records
    forecast, _ = serving.forecast_windows(networks[:1], flat, first, origin, spec)
    times = one.times[0]
    return ForecastTrace(
        series_id=series_id,
        network_trace=result.trace,
        inputs=batch.inputs[0],
        feature_names=feature_names,
        step_labels=serving.step_labels(times, spec.step_length),
        history=one.values[0].copy(),
        history_index=times,
        forecast=forecast[0],
        forecast_index=data_module.future_timestamps(times, freq, spec.horizon),
        level=float(batch.levels[0]),
        base=np.asarray(batch.base[0], dtype=np.float64),
        log_transform=spec.log,
    )
