"""What if an input or a weight were different? Re-run the engine and see.

An edit changes one scaled network input ``x[step, feature]`` or one parameter entry
``parameters[name][row, col]`` of a *copy* of the fitted network; the copy then runs the
window forward with ``record_trace=True``. The fitted model is never touched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstmlens.cell import FloatArray
from lstmlens.explorer.contract import ForecastTraceLike
from lstmlens.explorer.errors import ExplorerError, check_range
from lstmlens.network import LSTMNetwork
from lstmlens.trace import NetworkTrace

#: Largest magnitude an edited value may have; beyond it every gate is saturated anyway.
MAX_ABS_VALUE = 1e6
#: Most edits one request may carry.
MAX_EDITS = 64


@dataclass(frozen=True)
class InputEdit:
    """Set the scaled network input at ``(step, feature)`` to ``value``."""

    step: int
    feature: int
    value: float


@dataclass(frozen=True)
class WeightEdit:
    """Set parameter entry ``name[row, col]`` (``name[row]`` for a bias) to ``value``."""

    name: str
    row: int
    col: int | None
    value: float


Edit = InputEdit | WeightEdit


@dataclass(frozen=True)
class WhatIf:
    """The result of running a window through an edited network.

    Attributes
    ----------
    network : LSTMNetwork
        The edited copy of the network.
    inputs : (T, I)
        The edited scaled inputs.
    trace : NetworkTrace
        Everything the engine computed on them (batch of 1).
    forecast : (h,)
        The forecast in the series' own units.
    """

    network: LSTMNetwork
    inputs: FloatArray
    trace: NetworkTrace
    forecast: FloatArray


def _check_value(value: float, where: str) -> float:
    if not math.isfinite(value) or abs(value) > MAX_ABS_VALUE:
        raise ExplorerError(
            f"value={value!r} for {where} is not allowed: send a finite number between "
            f"{-MAX_ABS_VALUE:g} and {MAX_ABS_VALUE:g}."
        )
    return float(value)


def check_edits(edits: Sequence[Edit], inputs: FloatArray, network: LSTMNetwork) -> None:
    """Raise :class:`ExplorerError` unless every edit names an existing entry.

    Parameters
    ----------
    edits : sequence of InputEdit or WeightEdit
        The edits, applied in order.
    inputs : (T, I)
        The window's scaled inputs.
    network : LSTMNetwork
        The network whose parameters may be edited.
    """
    if len(edits) > MAX_EDITS:
        raise ExplorerError(f"edits has {len(edits)} entries; send at most {MAX_EDITS}.")
    steps, features = inputs.shape
    for edit in edits:
        if isinstance(edit, InputEdit):
            check_range("edits.step", edit.step, steps, f"the window has {steps} steps")
            check_range("edits.feature", edit.feature, features, f"the model reads {features}")
            _check_value(edit.value, f"input ({edit.step}, {edit.feature})")
            continue
        if edit.name not in network.parameters:
            raise ExplorerError(
                f"edits.name={edit.name!r} is not a parameter of this network; allowed: "
                f"{', '.join(network.parameters)}."
            )
        shape = network.parameters[edit.name].shape
        check_range("edits.row", edit.row, shape[0], f"{edit.name} has {shape[0]} rows")
        if len(shape) == 2:
            if edit.col is None:
                raise ExplorerError(f"edits.col is required for {edit.name}, shape {shape}.")
            check_range("edits.col", edit.col, shape[1], f"{edit.name} has {shape[1]} columns")
        elif edit.col not in (None, 0):
            raise ExplorerError(f"edits.col must be omitted for {edit.name}, a vector.")
        _check_value(edit.value, f"{edit.name}[{edit.row}]")


def apply_edits(
    network: LSTMNetwork, inputs: FloatArray, edits: Sequence[Edit]
) -> tuple[LSTMNetwork, FloatArray]:
    """Return an edited copy of ``network`` and of ``inputs`` (the originals are untouched).

    Call :func:`check_edits` first; this function trusts the indices.
    """
    edited_network = network.copy()
    edited_inputs = np.array(inputs, copy=True)  # (T, I)
    for edit in edits:
        if isinstance(edit, InputEdit):
            edited_inputs[edit.step, edit.feature] = edit.value
        elif edit.col is None:
            edited_network.parameters[edit.name][edit.row] = edit.value
        else:
            edited_network.parameters[edit.name][edit.row, edit.col] = edit.value
    return edited_network, edited_inputs


def run_window(
    forecast_trace: ForecastTraceLike, network: LSTMNetwork, inputs: FloatArray
) -> WhatIf:
    """Run ``network`` on one window's ``inputs`` (T, I) and turn its output into a forecast.

    Parameters
    ----------
    forecast_trace : ForecastTraceLike
        The window's original trace; supplies the scaling back to series units.
    network : LSTMNetwork
        The (possibly edited) network.
    inputs : (T, I)
        The (possibly edited) scaled inputs.

    Returns
    -------
    WhatIf
    """
    result = network.forward(inputs[None, :, :], record_trace=True)  # batch of 1
    assert result.trace is not None  # record_trace=True always records one
    forecast = np.asarray(forecast_trace.to_original_units(result.output[0]), dtype=np.float64)
    return WhatIf(network=network, inputs=inputs, trace=result.trace, forecast=forecast.ravel())


def what_if(
    forecast_trace: ForecastTraceLike, network: LSTMNetwork, edits: Sequence[Edit]
) -> WhatIf:
    """Check ``edits``, apply them to copies and run the window again.

    Parameters
    ----------
    forecast_trace : ForecastTraceLike
        The unedited trace of the window.
    network : LSTMNetwork
        The fitted network (not modified).
    edits : sequence of InputEdit or WeightEdit

    Returns
    -------
    WhatIf
    """
    inputs = np.asarray(forecast_trace.inputs)
    check_edits(edits, inputs, network)
    edited_network, edited_inputs = apply_edits(network, inputs, edits)
    return run_window(forecast_trace, edited_network, edited_inputs)
