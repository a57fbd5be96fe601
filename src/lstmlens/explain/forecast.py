"""Explanations of a forecaster's forecast: the forecast-level entry points.

:class:`ForecastTraceLike` is what :meth:`LSTMForecaster.trace` returns (a
``ForecastTrace``): the network trace of the last input window of one series (batch 1), the
scaled network inputs, the names of features and steps, the raw history and the forecast in
the data's units. The functions here adapt the trace-level explanations to it; they touch
the forecaster only through ``trace(series_id)`` and its fitted network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from lstmlens.cell import FloatArray
from lstmlens.explain._checks import check_choice
from lstmlens.explain._numbers import label
from lstmlens.explain.attribution import Attribution, trace_attributions
from lstmlens.explain.narration import StepNarration
from lstmlens.explain.summary import MemorySummary, summarize_trace
from lstmlens.explain.walkthrough import narrate_trace
from lstmlens.network import LSTMNetwork
from lstmlens.trace import NetworkTrace


class ForecastTraceLike(Protocol):
    """The parts of ``lstmlens.forecaster.ForecastTrace`` the explanations read."""

    @property
    def series_id(self) -> Any: ...
    @property
    def network_trace(self) -> NetworkTrace: ...
    @property
    def inputs(self) -> FloatArray: ...
    @property
    def feature_names(self) -> Sequence[str]: ...
    @property
    def step_labels(self) -> Sequence[str]: ...
    @property
    def history(self) -> FloatArray: ...
    @property
    def history_index(self) -> Any: ...
    @property
    def forecast(self) -> FloatArray: ...
    @property
    def forecast_index(self) -> Any: ...


def narrate_forecast(
    forecast_trace: ForecastTraceLike,
    *,
    layer: int = -1,
    time: int = -1,
    unit: int | None = None,
    output: int = 0,
    parameters: Mapping[str, FloatArray] | None = None,
    top_k: int = 3,
) -> StepNarration:
    """Narrate one step of one unit of a forecast (default: top layer, last step, most
    active unit, first horizon step), naming features and steps as the data does.

    Parameters
    ----------
    forecast_trace : ForecastTrace
        From ``forecaster.trace(series_id)``.
    layer, time, unit, output, top_k
        As in :func:`~lstmlens.explain.walkthrough.narrate_trace`.
    parameters : mapping, optional
        The network's parameters, to name the largest terms of each sum.

    Raises
    ------
    ValueError
        If a choice is out of range.
    """
    trace = forecast_trace.network_trace
    horizon = len(forecast_trace.forecast)
    check_choice("output", output, int(trace.output.shape[1]), "the forecast horizon")
    original = float(forecast_trace.forecast[output]) if output < horizon else None
    base = np.asarray(getattr(forecast_trace, "base", np.zeros(0)), dtype=np.float64)
    return narrate_trace(
        trace, layer=layer, time=time, unit=unit, output=output, parameters=parameters,
        feature_names=list(forecast_trace.feature_names),
        step_labels=[label(step) for step in forecast_trace.step_labels], top_k=top_k,
        prediction_original_units=original,
        prediction_base=float(base[output]) if base.size == trace.output.shape[1] else None,
    )


def forecast_summary(forecast_trace: ForecastTraceLike, *, layer: int = -1) -> MemorySummary:
    """:func:`~lstmlens.explain.summary.summarize_trace` with the forecast's step labels."""
    return summarize_trace(forecast_trace.network_trace, layer=layer,
                           step_labels=[label(step) for step in forecast_trace.step_labels])


def forecast_attributions(
    network: LSTMNetwork, forecast_trace: ForecastTraceLike, *, output: int | None = None
) -> Attribution:
    """Gradient x input over the forecast's input window (see
    :func:`~lstmlens.explain.attribution.trace_attributions`)."""
    return trace_attributions(
        network, forecast_trace.network_trace, output=output,
        feature_names=list(forecast_trace.feature_names),
        step_labels=[label(step) for step in forecast_trace.step_labels],
    )


def fitted_network(forecaster: Any) -> LSTMNetwork:
    """The fitted :class:`LSTMNetwork` inside a forecaster (its ``network_`` attribute).

    Raises
    ------
    ValueError
        If the forecaster is not fitted.
    """
    network = getattr(forecaster, "network_", None)
    if not isinstance(network, LSTMNetwork):
        raise ValueError(f"This {type(forecaster).__name__} instance is not fitted yet. Call "
                         "'fit' with appropriate arguments before explaining it.")
    return network


def forecast_trace(forecaster: Any, series_id: Any = None) -> ForecastTraceLike:
    """``forecaster.trace(series_id)``, with an unknown series or an unfitted forecaster
    reported as a ValueError that says what to do."""
    fitted_network(forecaster)
    known = getattr(forecaster, "ids_", None)
    if series_id is not None and known is not None and str(series_id) not in known:
        raise ValueError(f"unknown series {series_id!r}: the model knows "
                         f"{_known_ids(forecaster)}; pick one of them.")
    try:
        return forecaster.trace(series_id)  # type: ignore[no-any-return]
    except KeyError as error:
        raise ValueError(f"unknown series {series_id!r}: the model knows "
                         f"{_known_ids(forecaster)}; pick one of them.") from error


def explain_forecast(
    forecaster: Any,
    series_id: Any = None,
    *,
    layer: int = -1,
    time: int = -1,
    unit: int | None = None,
    output: int = 0,
    top_k: int = 3,
) -> StepNarration:
    """Narrate one step of a fitted forecaster's last input window for one series.

    Parameters
    ----------
    forecaster : LSTMForecaster
        A fitted forecaster.
    series_id : optional
        The series (default: the forecaster's first).
    layer, time, unit, output, top_k
        As in :func:`narrate_forecast`; the sums name their largest terms.

    Raises
    ------
    ValueError
        If the forecaster is not fitted, the series is unknown or a choice is out of range.
    """
    network = fitted_network(forecaster)
    return narrate_forecast(forecast_trace(forecaster, series_id), layer=layer, time=time,
                            unit=unit, output=output, parameters=network.parameters,
                            top_k=top_k)


def _known_ids(forecaster: Any, limit: int = 5) -> str:
    ids = list(getattr(forecaster, "ids_", None) or getattr(forecaster, "series_ids_", None)
               or [])
    if not ids:
        return "other series"
    shown = ", ".join(repr(i) for i in ids[:limit])
    return f"{len(ids)} series ({shown}{', ...' if len(ids) > limit else ''})"
