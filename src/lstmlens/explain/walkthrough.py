"""The seed's walk-through, for any step of any unit: weights x inputs + bias = sum, the
activation, and what it means in plain words.

"Thinking like LSTMs" walks one unit through its forget gate (f_t, % of the long-term memory
kept), input gate (i_t, the sigmoid "% to remember" path), potential memory (g_t, the tanh
path), output gate (o_t), the new long-term memory (cell state c_t), the new short-term
memory (hidden state h_t) and the Dense layer's prediction. :func:`narrate_step` tells the
same story with the numbers a real step recorded in its :class:`~lstmlens.cell.StepTrace`;
:func:`seed_walkthrough` runs the article's own example through the engine and points out
where the article's rounded numbers drift.

Every value shown is read from the trace; the only arithmetic here is presentation: weight
x input for the named terms of a sum, their remainder, and ``tanh(c_t)`` (the squashed
memory the output gate scales, which the trace does not store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from lstmlens.cell import FloatArray, StepTrace
from lstmlens.explain._checks import check_choice, resolve_index
from lstmlens.explain._numbers import compact, fixed, percent
from lstmlens.explain.narration import (
    GATES,
    DenseStep,
    GateStep,
    LongTermUpdate,
    ShortTermUpdate,
    StepNarration,
    Term,
)
from lstmlens.trace import NetworkTrace

TITLES = {
    "forget_gate": "Forget gate (f_t): what should we erase from the long-term memory?",
    "input_gate": "Input gate (i_t), sigmoid path: what % of the new information do we "
                  "remember?",
    "candidate_memory": "Potential memory (g_t), tanh path: what new memory could we add?",
    "output_gate": "Output gate (o_t): how much of the memory becomes short-term memory?",
}


def narrate_step(
    step: StepTrace,
    unit: int,
    *,
    row: int = 0,
    weight_ih: FloatArray | None = None,
    weight_hh: FloatArray | None = None,
    head_weight: FloatArray | None = None,
    head_bias: FloatArray | None = None,
    prediction: float | None = None,
    output: int = 0,
    feature_names: Sequence[str] | None = None,
    top_k: int = 3,
    title: str | None = None,
    layer: int | None = None,
    time: int | None = None,
    step_label: str | None = None,
    prediction_original_units: float | None = None,
    prediction_base: float | None = None,
) -> StepNarration:
    """Narrate one unit of one recorded step, the way the seed walks through its example.

    Parameters
    ----------
    step : StepTrace
        The recorded step (from ``NetworkTrace.step`` or ``LayerTrace.step``).
    unit : int
        Which unit (0 .. H-1) to narrate.
    row : int
        Batch row of ``step`` to read.
    weight_ih, weight_hh : (4H, I), (4H, H) arrays, optional
        The layer's weights. When given, each sum names its terms (value x weight), the
        ``top_k`` largest by ``|w x|`` when there are many; otherwise it shows the trace's
        totals per source (weighted inputs, weighted short-term memory, bias).
    head_weight, head_bias : (O, H), (O,) arrays, optional
        The Dense layer. Only meaningful for the top layer's last step.
    prediction : float, optional
        The Dense output the trace recorded (``NetworkTrace.output``); if omitted it is the
        sum of the shown parts.
    output : int
        Which Dense output (horizon step) to narrate.
    feature_names : sequence of str, optional
        Names of the I inputs.
    top_k : int
        How many terms of a sum to name before grouping the rest.
    title, layer, time, step_label
        Labels for the heading.
    prediction_original_units : float, optional
        The forecast in the data's units (``ForecastTrace.forecast``), to print both.
    prediction_base : float, optional
        The base forecast (scaled units) the prediction corrects, if any.

    Returns
    -------
    StepNarration
    """
    hidden = int(step.forget_gate.shape[1])
    inputs = int(step.inputs.shape[1])
    check_choice("unit", unit, hidden, "the layer's hidden size")
    check_choice("row", row, int(step.forget_gate.shape[0]), "the step's batch size")
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}.")
    names = _feature_names(feature_names, inputs)
    value = {key: float(getattr(step, key)[row, unit]) for key in GATES}
    previous_c = float(step.previous_long_term_memory[row, unit])
    kept = float(step.kept_memory[row, unit])
    added = float(step.added_memory[row, unit])
    c_t = float(step.long_term_memory[row, unit])
    h_t = float(step.short_term_memory[row, unit])

    gates = []
    for key, (index, symbol, activation) in GATES.items():
        column = index * hidden + unit
        input_total = float(step.input_part[row, column])
        memory_total = float(step.memory_part[row, column])
        bias = float(step.bias[column])
        terms = (
            *_terms(step.inputs[row], _row(weight_ih, column), input_total, "input", names, top_k),
            *_terms(step.previous_short_term_memory[row], _row(weight_hh, column), memory_total,
                    "memory", _memory_names(hidden), top_k),
            Term(label="bias", source="bias", product=bias),
        )
        meaning = _gate_meaning(key, value[key], previous_c, kept)
        gates.append(GateStep(key, symbol, TITLES[key], activation, terms, input_total,
                              memory_total, bias, float(step.weighted_sum[row, column]),
                              value[key], meaning))

    long_term = LongTermUpdate(
        previous=previous_c, forget_gate=value["forget_gate"], kept=kept,
        input_gate=value["input_gate"], candidate_memory=value["candidate_memory"],
        added=added, value=c_t,
        meaning=(f"keeps {fixed(kept)} of the old memory and "
                 f"{'adds' if added >= 0 else 'removes'} {fixed(abs(added))}: the long-term "
                 f"memory goes from {compact(previous_c)} to {fixed(c_t)}"),
    )
    # tanh(c_t) is not stored in the trace; it is the squashing the output gate scales.
    squashed = float(np.tanh(c_t))
    short_term = ShortTermUpdate(
        output_gate=value["output_gate"], long_term_memory=c_t, squashed_memory=squashed,
        value=h_t,
        meaning=(f"the output gate lets {percent(value['output_gate'])} of the squashed "
                 f"long-term memory through: the new short-term memory is {fixed(h_t)}"),
    )
    dense = None
    if head_weight is not None and head_bias is not None:
        dense = _dense(step.short_term_memory[row], head_weight, head_bias, output, unit,
                       top_k, prediction, prediction_original_units, prediction_base)
    where = [f"unit {unit}"]
    if layer is not None:
        where.insert(0, f"layer {layer}")
    if time is not None:
        where.insert(0, f"step {time}" + (f" ({step_label})" if step_label else ""))
    return StepNarration(
        title=title or "What the LSTM did at " + ", ".join(where),
        unit=unit, hidden_size=hidden, input_size=inputs, gates=tuple(gates),
        long_term=long_term, short_term=short_term, dense=dense, layer=layer, time=time,
        step_label=step_label,
    )


def _gate_meaning(key: str, value: float, previous_c: float, kept: float) -> str:
    if key == "forget_gate":
        return (f"keeps {percent(value)} of the long-term memory: "
                f"{compact(previous_c)} → {fixed(kept)}")
    if key == "input_gate":
        return f"remembers {percent(value)} of the potential memory"
    if key == "candidate_memory":
        direction = "raise" if value >= 0 else "lower"
        return f"the potential memory {fixed(value)} would {direction} the long-term memory"
    return f"lets {percent(value)} of the squashed long-term memory out"


def _dense(
    short_term_memory: FloatArray,
    head_weight: FloatArray,
    head_bias: FloatArray,
    output: int,
    unit: int,
    top_k: int,
    prediction: float | None,
    original: float | None,
    base: float | None,
) -> DenseStep:
    weight = np.asarray(head_weight)
    hidden = int(short_term_memory.shape[0])
    if weight.ndim != 2 or weight.shape[1] != hidden:
        raise ValueError(f"head_weight must have shape (outputs, {hidden}), got {weight.shape}.")
    check_choice("output", output, int(weight.shape[0]), "the Dense layer's output size")
    bias = float(np.asarray(head_bias)[output])
    products = weight[output] * short_term_memory  # presentation: each unit's w x h
    total = float(products.sum())
    terms = _terms(short_term_memory, weight[output], total, "memory", _memory_names(hidden),
                   top_k, first=unit)
    value = float(prediction) if prediction is not None else total + bias
    meaning = f"the Dense layer predicts {fixed(value)}"
    if base is not None:
        meaning = (f"the Dense layer outputs a correction of {fixed(value)} to the base "
                   f"forecast {fixed(base)} (both in scaled units)")
    if original is not None:
        meaning += f"; the forecast in the data's units is {fixed(original)}"
    return DenseStep(output=output, terms=(*terms, Term("bias", "bias", bias)), bias=bias,
                     value=value, meaning=meaning, value_original_units=original, base=base)


def _terms(
    values: FloatArray,
    weights: FloatArray | None,
    total: float,
    source: str,
    names: Sequence[str],
    top_k: int,
    first: int | None = None,
) -> tuple[Term, ...]:
    """Split the trace's ``total`` into named terms (largest |w x| first) plus the rest."""
    count = int(values.shape[0])
    plural = "inputs" if source == "input" else "short-term memories"
    singular = "input" if source == "input" else "short-term memory"
    if weights is None:
        label = f"weighted {plural}" if count > 1 else f"weighted {names[0]}"
        return (Term(label=label, source=source, product=total, count=count),)
    products = weights * values  # presentation: the named terms of the trace's total
    if count <= top_k:
        shown = list(range(count))
    else:
        shown = [int(j) for j in np.argsort(-np.abs(products), kind="stable")[:top_k]]
        if first is not None and first not in shown:
            shown = [first, *shown[: top_k - 1]]
    terms = [Term(label=names[j], source=source, product=float(products[j]),
                  value=float(values[j]), weight=float(weights[j])) for j in shown]
    if count > len(shown):
        rest = total - float(sum(products[j] for j in shown))
        rest_count = count - len(shown)
        terms.append(Term(label=f"{rest_count} other {plural if rest_count > 1 else singular}",
                          source=source,
                          product=rest, count=count - len(shown)))
    return tuple(terms)


def _row(weight: FloatArray | None, column: int) -> FloatArray | None:
    return None if weight is None else np.asarray(weight)[column]


def _feature_names(names: Sequence[str] | None, count: int) -> list[str]:
    if names is None:
        return ["input x"] if count == 1 else [f"x[{j}]" for j in range(count)]
    if len(names) != count:
        raise ValueError(f"feature_names has {len(names)} names but the step has {count} inputs.")
    return [str(name) for name in names]


def _memory_names(count: int) -> list[str]:
    return ["short-term memory h"] if count == 1 else [f"h[{j}]" for j in range(count)]


def layer_weights(
    parameters: Mapping[str, FloatArray], layer: int
) -> tuple[FloatArray, FloatArray]:
    """Return ``(weight_ih, weight_hh)`` of ``layer`` from PyTorch-layout parameters."""
    return parameters[f"weight_ih_l{layer}"], parameters[f"weight_hh_l{layer}"]


def narrate_trace(
    trace: NetworkTrace,
    *,
    layer: int = -1,
    time: int = -1,
    unit: int | None = None,
    row: int = 0,
    output: int = 0,
    parameters: Mapping[str, FloatArray] | None = None,
    feature_names: Sequence[str] | None = None,
    step_labels: Sequence[str] | None = None,
    top_k: int = 3,
    prediction_original_units: float | None = None,
    prediction_base: float | None = None,
) -> StepNarration:
    """Narrate one unit of one step of a :class:`~lstmlens.trace.NetworkTrace`.

    Parameters
    ----------
    trace : NetworkTrace
        A full trace (``forward(..., record_trace=True)``).
    layer, time : int
        Which layer and step; negative values count from the end (default: the top layer's
        last step, which also narrates the Dense layer's prediction).
    unit : int or None
        Which unit; None picks the most active one (see
        :func:`lstmlens.explain.summary.most_active_unit`).
    row : int
        Batch row (series or window).
    output : int
        Which Dense output (horizon step) to narrate.
    parameters : mapping, optional
        The network's parameters (PyTorch layout); with them each sum names its terms.
    feature_names, step_labels : sequences of str, optional
        Names of the inputs of layer 0 and of the time steps.
    top_k : int
        How many terms of a sum to name before grouping the rest.
    prediction_original_units, prediction_base : float, optional
        The forecast in the data's units and the base forecast the output corrects.

    Raises
    ------
    ValueError
        If ``layer``, ``time``, ``unit``, ``row`` or ``output`` is out of range.
    """
    from lstmlens.explain.summary import most_active_unit

    layer = resolve_index("layer", layer, len(trace.layers), "the network's number of layers")
    record = trace.layers[layer]
    time = resolve_index("step", time, record.steps, "the input window's number of steps")
    row = resolve_index("row", row, int(record.short_term_memory.shape[0]), "the batch size")
    check_choice("output", output, int(trace.output.shape[1]), "the Dense layer's output size")
    if unit is None:
        unit = most_active_unit(trace, layer=layer, time=time, row=row)
    check_choice("unit", unit, record.hidden_size, "the layer's hidden size")
    last = layer == len(trace.layers) - 1 and time == record.steps - 1
    names = feature_names if layer == 0 else [
        f"h[{j}] of layer {layer - 1}" for j in range(int(record.inputs.shape[2]))]
    weight_ih, weight_hh = layer_weights(parameters, layer) if parameters else (None, None)
    label = None
    if step_labels is not None:
        if len(step_labels) != record.steps:
            raise ValueError(f"step_labels has {len(step_labels)} labels but the trace has "
                             f"{record.steps} steps.")
        label = str(step_labels[time])
    return narrate_step(
        trace.step(layer, time, row), unit, row=0, weight_ih=weight_ih, weight_hh=weight_hh,
        head_weight=trace.head_weight if last else None,
        head_bias=trace.head_bias if last else None,
        prediction=float(trace.output[row, output]) if last else None, output=output,
        feature_names=names, top_k=top_k, layer=layer, time=time, step_label=label,
        prediction_original_units=prediction_original_units if last else None,
        prediction_base=prediction_base if last else None,
    )

