"""Which past inputs drove a forecast, and how the Dense layer reads the memory.

:func:`input_attributions` scores every input value of a window by *gradient x input*:
``x[t, j] * d prediction / d x[t, j]``, with the gradient from the engine's own
backpropagation through time (:meth:`LSTMNetwork.backward`). A large positive score means
the input pushed the prediction up. The scores are a first-order reading, not an exact split
of the prediction (they need not add up to it).

:func:`read_head` reads the Dense layer straight from the trace: each unit's short-term
memory (hidden state h_T) times its weight is that unit's contribution to each output
(``NetworkTrace.head_contributions``); they add up, with the bias, to the prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lstmlens.cell import FloatArray
from lstmlens.explain._checks import check_choice, resolve_index
from lstmlens.explain._numbers import fixed, signed
from lstmlens.network import LSTMNetwork, LSTMState
from lstmlens.trace import NetworkTrace


@dataclass(frozen=True)
class Attribution:
    """Gradient x input for one window.

    Attributes
    ----------
    values : (T, I)
        ``inputs * gradients``: how much each input value moved the prediction.
    gradients : (T, I)
        d prediction / d input, from the engine's backward pass.
    inputs : (T, I)
        The (scaled) network inputs of the window.
    prediction : float
        The explained value: Dense output ``output``, or the sum of all outputs if None.
    output : int or None
        Which output (horizon step) was explained.
    feature_names, step_labels : tuple of str
        Names of the I features and T steps.
    """

    values: FloatArray
    gradients: FloatArray
    inputs: FloatArray
    prediction: float
    output: int | None
    feature_names: tuple[str, ...]
    step_labels: tuple[str, ...]

    def by_step(self) -> FloatArray:
        """Attribution summed over features, (T,)."""
        return np.asarray(self.values.sum(axis=1))

    def by_feature(self) -> FloatArray:
        """Attribution summed over steps, (I,)."""
        return np.asarray(self.values.sum(axis=0))

    def top(self, k: int = 5) -> list[tuple[str, str, float]]:
        """The ``k`` largest ``|attribution|`` as ``(step label, feature name, value)``."""
        flat = np.argsort(-np.abs(self.values), axis=None, kind="stable")[:k]
        steps, features = np.unravel_index(flat, self.values.shape)
        return [(self.step_labels[t], self.feature_names[j], float(self.values[t, j]))
                for t, j in zip(steps, features, strict=True)]

    def to_text(self, k: int = 5) -> str:
        """The ``k`` strongest inputs and the strongest step, in plain words."""
        target = "the sum of all outputs" if self.output is None else f"output {self.output}"
        lines = [f"Inputs that moved {target} most (gradient × input; the prediction is "
                 f"{fixed(self.prediction)}):"]
        lines += [f"  {feature} at {step}: {signed(value)}" for step, feature, value in self.top(k)]
        per_step = self.by_step()
        busiest = int(np.argmax(np.abs(per_step)))
        lines.append(f"  strongest step overall: {self.step_labels[busiest]} "
                     f"({signed(float(per_step[busiest]))})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.to_text())}</pre>"

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (arrays as nested lists)."""
        data = asdict(self)
        for key in ("values", "gradients", "inputs"):
            data[key] = np.asarray(data[key]).tolist()
        return data


def input_attributions(
    network: LSTMNetwork,
    inputs: FloatArray,
    *,
    initial_state: LSTMState | None = None,
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
    step_labels: Sequence[str] | None = None,
) -> Attribution:
    """Gradient x input of one window, through time, with the engine's backward pass.

    Parameters
    ----------
    network : LSTMNetwork
        The network that makes the prediction.
    inputs : (T, I) or (1, T, I) array
        One window of network inputs (already scaled as the network sees them).
    initial_state : LSTMState, optional
        Short-term memory h_0 and long-term memory c_0 (hidden and cell state), (L, 1, H)
        each; zeros when None.
    output : int or None
        Explain this Dense output (a one-hot gradient); None explains the sum of all
        outputs (a gradient of ones).
    feature_names, step_labels : sequences of str, optional
        Names for the I features and T steps.

    Returns
    -------
    Attribution
    """
    x = np.asarray(inputs)
    if x.ndim == 2:
        x = x[None]  # (1, T, I)
    if x.ndim != 3 or x.shape[0] != 1:
        raise ValueError(f"inputs must be one window of shape (T, I) or (1, T, I), got "
                         f"{np.asarray(inputs).shape}.")
    result = network.forward(x, initial_state, keep_for_backward=True)
    grad_output = np.zeros_like(result.output)  # (1, O)
    if output is None:
        grad_output[:] = 1.0
        prediction = float(result.output.sum())
    else:
        check_choice("output", output, network.output_size, "the Dense layer's output size")
        grad_output[0, output] = 1.0
        prediction = float(result.output[0, output])
    gradients = network.backward(result, grad_output).inputs[0]  # (T, I)
    window = np.asarray(x[0], dtype=gradients.dtype)
    steps, features = window.shape
    return Attribution(
        values=window * gradients,
        gradients=gradients,
        inputs=window,
        prediction=prediction,
        output=output,
        feature_names=_names(feature_names, features, "feature", lambda j: f"x[{j}]"),
        step_labels=_names(step_labels, steps, "step label", lambda t: f"step {t}"),
    )


def trace_attributions(
    network: LSTMNetwork,
    trace: NetworkTrace,
    *,
    row: int = 0,
    output: int | None = None,
    feature_names: Sequence[str] | None = None,
    step_labels: Sequence[str] | None = None,
) -> Attribution:
    """:func:`input_attributions` of the window a trace recorded (same inputs, same start).

    Raises
    ------
    ValueError
        If ``network`` does not reproduce the trace's output (it is not the network that
        made the trace).
    """
    row = resolve_index("row", row, int(trace.output.shape[0]), "the trace's number of rows")
    first = trace.layers[0]
    window = first.inputs[row]  # (T, I)
    state = LSTMState(
        np.stack([layer.initial_short_term_memory[row : row + 1] for layer in trace.layers]),
        np.stack([layer.initial_long_term_memory[row : row + 1] for layer in trace.layers]),
    )  # (L, 1, H) each
    attribution = input_attributions(network, window, initial_state=state, output=output,
                                     feature_names=feature_names, step_labels=step_labels)
    recorded = trace.output[row]
    expected = float(recorded.sum()) if output is None else float(recorded[output])
    tolerance = 1e-4 if network.dtype == np.float32 else 1e-9
    if abs(attribution.prediction - expected) > tolerance * max(1.0, abs(expected)):
        raise ValueError(
            f"network does not reproduce this trace: it predicts {attribution.prediction!r}, "
            f"the trace recorded {expected!r}; pass the network that made the trace.")
    return attribution


@dataclass(frozen=True)
class HeadReading:
    """How the Dense layer turns the last short-term memory h_T into each output.

    ``output[o] = bias[o] + sum over units u of contributions[o, u]``, all read from the
    trace (``NetworkTrace.head_contributions``, ``head_bias``, ``output``).
    """

    contributions: FloatArray  # (O, H)
    bias: FloatArray  # (O,)
    output: FloatArray  # (O,)

    def unit_importance(self) -> FloatArray:
        """Mean ``|contribution|`` of each unit over the outputs, (H,)."""
        return np.asarray(np.abs(self.contributions).mean(axis=0))

    def to_text(self, k: int = 3, max_outputs: int = 6) -> str:
        """One line per output (the first ``max_outputs``): bias + largest units + rest."""
        outputs, hidden = self.contributions.shape
        lines = []
        for o in range(min(outputs, max_outputs)):
            row = self.contributions[o]
            order = [int(u) for u in np.argsort(-np.abs(row), kind="stable")[:k]]
            parts = [f"bias {signed(float(self.bias[o]))}"]
            parts += [f"unit {u} {signed(float(row[u]))}" for u in order]
            if hidden > len(order):
                rest = float(self.output[o] - self.bias[o] - row[order].sum())
                others = hidden - len(order)
                parts.append(f"{others} other unit{'s' if others > 1 else ''} {signed(rest)}")
            lines.append(f"output {o} = " + " ".join(parts) + f" = {fixed(float(self.output[o]))}")
        if outputs > max_outputs:
            lines.append(f"... and {outputs - max_outputs} more outputs")
        return "\n".join(lines)


def read_head(trace: NetworkTrace, row: int = 0) -> HeadReading:
    """Read each unit's contribution weight x h_T to each output from the trace."""
    row = resolve_index("row", row, int(trace.output.shape[0]), "the trace's number of rows")
    return HeadReading(
        contributions=np.asarray(trace.head_contributions[row]),
        bias=np.asarray(trace.head_bias),
        output=np.asarray(trace.output[row]),
    )


def _names(
    names: Sequence[str] | None, count: int, what: str, default: Callable[[int], str]
) -> tuple[str, ...]:
    if names is None:
        return tuple(default(k) for k in range(count))
    if len(names) != count:
        raise ValueError(f"expected {count} {what}s (one per {what.split()[0]} of the window), "
                         f"got {len(names)}.")
    return tuple(str(name) for name in names)
