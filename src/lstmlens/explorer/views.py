"""Turn engine traces into the plain JSON the explorer page draws.

Every number here is read from a :class:`~lstmlens.trace.NetworkTrace` (or the parameters
that produced it); the page never computes LSTM math of its own. The only arithmetic done
here is display arithmetic: splitting a weighted sum into its ``weight x value`` terms so the
page can show where the sum came from, and ``tanh(c_t)`` on the output path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lstmlens.cell import GATE_ORDER, FloatArray
from lstmlens.trace import LayerTrace, NetworkTrace

#: Activation of each gate, as the seed names them.
ACTIVATIONS = {
    "input_gate": "sigmoid",
    "forget_gate": "sigmoid",
    "candidate_memory": "tanh",
    "output_gate": "sigmoid",
}

JSON = dict[str, Any]


def label(value: object) -> str:
    """Print a step or date label: ``1960-12-01`` for a midnight timestamp, else ``str``."""
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        text = str(isoformat())
        return text.removesuffix("T00:00:00")
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def labels(values: Sequence[object] | Any) -> list[str]:
    """Print every label of a sequence (a list, an array or a pandas index)."""
    return [label(value) for value in values]


def floats(values: FloatArray | Sequence[float]) -> list[float]:
    """A flat list of Python floats (exact copies of float32/float64 values)."""
    return [float(value) for value in np.asarray(values, dtype=np.float64).ravel()]


def timeline_view(
    layer_trace: LayerTrace, unit: int, step_labels: Sequence[str], input_names: Sequence[str]
) -> JSON:
    """Every step's gates, memories and inputs for one unit of one layer (batch row 0).

    Parameters
    ----------
    layer_trace : LayerTrace
        The layer's record over the window.
    unit : int
        Which of the layer's ``H`` units.
    step_labels : sequence of str
        ``T`` labels.
    input_names : sequence of str
        Names of the layer's ``I`` inputs.

    Returns
    -------
    dict
        ``labels``; ``gates`` (i_t, f_t, g_t, o_t by the seed's names), ``memories``
        (``long_term_memory`` c_t, ``short_term_memory`` h_t, and the starting values
        ``initial_long_term_memory``/``initial_short_term_memory``) and ``inputs``
        (``names`` and one list of ``T`` values per input).
    """
    gates = {name: floats(getattr(layer_trace, name)[0, :, unit]) for name in GATE_ORDER}
    inputs = layer_trace.inputs[0]  # (T, I)
    return {
        "labels": list(step_labels),
        "gates": gates,
        "memories": {
            "long_term_memory": floats(layer_trace.long_term_memory[0, :, unit]),
            "short_term_memory": floats(layer_trace.short_term_memory[0, :, unit]),
            "initial_long_term_memory": float(layer_trace.initial_long_term_memory[0, unit]),
            "initial_short_term_memory": float(layer_trace.initial_short_term_memory[0, unit]),
        },
        "inputs": {
            "names": list(input_names),
            "values": [floats(inputs[:, column]) for column in range(inputs.shape[1])],
        },
    }


def _terms(weights: FloatArray, values: FloatArray, names: Sequence[str]) -> list[JSON]:
    """``weight x value`` for every source of one gate row (display arithmetic)."""
    return [
        {
            "index": index,
            "name": names[index],
            "value": float(values[index]),
            "weight": float(weights[index]),
            "product": float(weights[index] * values[index]),
        }
        for index in range(values.shape[0])
    ]


def step_view(
    trace: NetworkTrace,
    parameters: Mapping[str, FloatArray],
    *,
    layer: int,
    unit: int,
    step: int,
    input_names: Sequence[str],
    forecast: FloatArray | None,
) -> JSON:
    """Every number on every path of one unit at one step, as the seed's diagram shows them.

    Parameters
    ----------
    trace : NetworkTrace
        A full trace (``record_trace=True``) of one window (batch row 0).
    parameters : mapping of str to ndarray
        The parameters that produced ``trace`` (for the ``weight x value`` terms).
    layer, unit, step : int
        Which layer, which of its units and which step, all already validated.
    input_names : sequence of str
        Names of the layer's inputs.
    forecast : ndarray or None
        The forecast in series units, shown with the Dense layer on the last step.

    Returns
    -------
    dict
        ``inputs`` (x_t), the previous memories of the unit, one entry per gate under
        ``gates`` (input part, memory part, bias, weighted sum, activation, value and the
        terms of each part), ``kept_memory``, ``added_memory``, ``long_term_memory`` c_t,
        ``squashed_memory`` tanh(c_t), ``short_term_memory`` h_t and ``dense``.
    """
    record = trace.step(layer, step)
    hidden = trace.layers[layer].hidden_size
    names = {
        "weight_ih": f"weight_ih_l{layer}",
        "weight_hh": f"weight_hh_l{layer}",
        "bias_ih": f"bias_ih_l{layer}",
        "bias_hh": f"bias_hh_l{layer}",
    }
    inputs = record.inputs[0]  # (I,)
    previous_h = record.previous_short_term_memory[0]  # (H,)
    memory_names = [f"h{layer}[{k}]" for k in range(hidden)]
    gates: JSON = {}
    for index, gate in enumerate(GATE_ORDER):
        row = index * hidden + unit
        gates[gate] = {
            "row": row,
            "activation": ACTIVATIONS[gate],
            "input_part": float(record.input_part[0, row]),
            "memory_part": float(record.memory_part[0, row]),
            "bias": float(record.bias[row]),
            "weighted_sum": float(record.weighted_sum[0, row]),
            "value": float(getattr(record, gate)[0, unit]),
            "input_terms": _terms(parameters[names["weight_ih"]][row], inputs, input_names),
            "memory_terms": _terms(parameters[names["weight_hh"]][row], previous_h, memory_names),
            "bias_terms": {
                "bias_ih": float(parameters[names["bias_ih"]][row]),
                "bias_hh": float(parameters[names["bias_hh"]][row]),
            },
        }
    long_term_memory = record.long_term_memory[0, unit]
    steps = trace.layers[layer].steps
    return {
        "layer": layer,
        "unit": unit,
        "step": step,
        "steps": steps,
        "parameter_names": names,
        "inputs": [
            {"index": j, "name": input_names[j], "value": float(inputs[j])}
            for j in range(inputs.shape[0])
        ],
        "previous_short_term_memory": float(previous_h[unit]),
        "previous_long_term_memory": float(record.previous_long_term_memory[0, unit]),
        "gates": gates,
        "kept_memory": float(record.kept_memory[0, unit]),
        "added_memory": float(record.added_memory[0, unit]),
        "long_term_memory": float(long_term_memory),
        "squashed_memory": float(np.tanh(long_term_memory)),
        "short_term_memory": float(record.short_term_memory[0, unit]),
        "dense": _dense_view(trace, layer, unit, step, forecast),
    }


def _dense_view(
    trace: NetworkTrace, layer: int, unit: int, step: int, forecast: FloatArray | None
) -> JSON:
    """The Dense layer as seen from one unit: it reads only the top layer's last step."""
    top = len(trace.layers) - 1
    last = trace.layers[layer].steps - 1
    reads_this = layer == top and step == last
    view: JSON = {
        "reads_this_step": reads_this,
        "weight": floats(trace.head_weight[:, unit]) if layer == top else [],
        "contribution": floats(trace.head_contributions[0, :, unit]) if layer == top else [],
        "bias": floats(trace.head_bias),
        "output": floats(trace.output[0]),
        "forecast": floats(forecast) if forecast is not None else [],
    }
    return view
