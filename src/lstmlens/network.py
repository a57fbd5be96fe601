"""A stacked LSTM with a Dense head: parameters, forward, backward, streaming and trace.

Parameters use PyTorch's names and layout (``weight_ih_l{k}`` (4H, I), ``weight_hh_l{k}``
(4H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}``, gate order i, f, g, o) plus ``head.weight``
(O, H) and ``head.bias`` (O,) for the Dense layer, so weights move to and from
``torch.nn.LSTM`` + ``torch.nn.Linear`` without reshuffling.

The Dense head reads the top layer's last short-term memory h_T and emits ``O`` outputs
(one value, or a whole horizon for direct multi-step forecasting).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal

import numpy as np

from lstmlens import reference
from lstmlens.cell import FloatArray, dense
from lstmlens.trace import LayerTrace, NetworkTrace

Backend = Literal["compiled", "reference"]
SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class LSTMState:
    """The memories carried between calls: h (short-term) and c (long-term), (L, B, H)."""

    short_term_memory: FloatArray
    long_term_memory: FloatArray


@dataclass(frozen=True)
class ForwardResult:
    """What :meth:`LSTMNetwork.forward` returns.

    Attributes
    ----------
    output : (B, O)
        The Dense head's prediction from the top layer's last short-term memory.
    final_state : LSTMState
        h_T and c_T of every layer, (L, B, H) each, to continue the sequences later.
    trace : NetworkTrace or None
        Every gate and memory of every step, when ``record_trace=True``.
    """

    output: FloatArray
    final_state: LSTMState
    trace: NetworkTrace | None
    records: tuple[LayerTrace, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Gradients:
    """Gradients of a loss with respect to the parameters, inputs and initial state."""

    parameters: dict[str, FloatArray]
    inputs: FloatArray  # (B, T, I)
    initial_state: LSTMState  # (L, B, H) each


def parameter_shapes(
    input_size: int, hidden_size: int, num_layers: int, output_size: int
) -> dict[str, tuple[int, ...]]:
    """Return the name and shape of every parameter, in PyTorch's layout and order."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden_size
        shapes[f"weight_ih_l{layer}"] = (4 * hidden_size, layer_input)
        shapes[f"weight_hh_l{layer}"] = (4 * hidden_size, hidden_size)
        shapes[f"bias_ih_l{layer}"] = (4 * hidden_size,)
        shapes[f"bias_hh_l{layer}"] = (4 * hidden_size,)
    shapes["head.weight"] = (output_size, hidden_size)
    shapes["head.bias"] = (output_size,)
    return shapes


class LSTMNetwork:
    """Stacked LSTM layers followed by a Dense layer.

    Parameters
    ----------
    parameters : mapping of str to ndarray
        Arrays named and shaped as :func:`parameter_shapes` says, all float32 or all float64.
        They are copied.
    backend : {"compiled", "reference"}
        ``"compiled"`` runs the Numba kernels; ``"reference"`` runs the readable NumPy step
        one time step at a time (slow; for checking).

    See Also
    --------
    LSTMNetwork.initialize : build a network with PyTorch's random initialisation.
    """

    def __init__(self, parameters: Mapping[str, FloatArray], backend: Backend = "reference"):
        self.parameters = _validated_parameters(parameters)
        self.backend: Backend = _validated_backend(backend)
        self.num_layers = sum(1 for name in self.parameters if name.startswith("weight_ih_l"))
        self.input_size = int(self.parameters["weight_ih_l0"].shape[1])
        self.hidden_size = int(self.parameters["weight_hh_l0"].shape[1])
        self.output_size = int(self.parameters["head.weight"].shape[0])
        self.dtype = self.parameters["weight_ih_l0"].dtype

    @classmethod
    def initialize(
        cls,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        output_size: int = 1,
        *,
        dtype: type[np.floating] | str = np.float32,
        random_state: int | np.random.Generator | None = None,
        forget_bias: float | None = None,
        backend: Backend = "reference",
    ) -> LSTMNetwork:
        """Build a network with PyTorch's default initialisation.

        Every LSTM weight and bias is drawn from uniform(-1/sqrt(H), 1/sqrt(H)); the Dense
        layer's from uniform(-1/sqrt(H), 1/sqrt(H)) too (its fan-in is H), as
        ``torch.nn.LSTM`` and ``torch.nn.Linear`` do.

        Parameters
        ----------
        input_size, hidden_size, num_layers, output_size : int
            I, H, L and O; all at least 1.
        dtype : float32 or float64
            Precision of the parameters.
        random_state : int, Generator or None
            Seed: the same seed gives bit-identical parameters.
        forget_bias : float or None
            If given, the forget gate's total bias starts at this value (``bias_ih``
            holds it, ``bias_hh`` is 0), so the long-term memory is kept by default.
        backend : {"compiled", "reference"}
            See :class:`LSTMNetwork`.
        """
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("num_layers", num_layers), ("output_size", output_size)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        float_dtype = _validated_dtype(dtype)
        rng = np.random.default_rng(random_state)
        bound = 1.0 / np.sqrt(hidden_size)
        shapes = parameter_shapes(input_size, hidden_size, num_layers, output_size)
        parameters = {
            name: rng.uniform(-bound, bound, size=shape).astype(float_dtype)
            for name, shape in shapes.items()
        }
        if forget_bias is not None:
            forget = slice(hidden_size, 2 * hidden_size)
            for layer in range(num_layers):
                parameters[f"bias_ih_l{layer}"][forget] = forget_bias
                parameters[f"bias_hh_l{layer}"][forget] = 0.0
        return cls(parameters, backend=backend)

    # ------------------------------------------------------------------ helpers
    def zero_state(self, batch: int) -> LSTMState:
        """Return empty memories (all zeros) for ``batch`` sequences."""
        shape = (self.num_layers, batch, self.hidden_size)
        return LSTMState(np.zeros(shape, self.dtype), np.zeros(shape, self.dtype))

    def astype(self, dtype: type[np.floating] | str) -> LSTMNetwork:
        """Return a copy of the network in another precision."""
        float_dtype = _validated_dtype(dtype)
        return LSTMNetwork(
            {name: value.astype(float_dtype) for name, value in self.parameters.items()},
            backend=self.backend,
        )

    def copy(self) -> LSTMNetwork:
        """Return an independent copy (parameters copied)."""
        return LSTMNetwork(self.parameters, backend=self.backend)

    def _layer_parameters(self, layer: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        p = self.parameters
        return (p[f"weight_ih_l{layer}"], p[f"weight_hh_l{layer}"],
                p[f"bias_ih_l{layer}"], p[f"bias_hh_l{layer}"])

    def _engine(self) -> ModuleType:
        if self.backend == "compiled":
            from lstmlens import kernels

            return kernels
        return reference

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        inputs: FloatArray,
        initial_state: LSTMState | None = None,
        *,
        record_trace: bool = False,
        keep_for_backward: bool = False,
    ) -> ForwardResult:
        """Run the network over whole sequences.

        Parameters
        ----------
        inputs : (B, T, I) float array
            The sequences; cast to the network's dtype.
        initial_state : LSTMState or None
            h_0 and c_0 of every layer, (L, B, H) each; zeros when None.
        record_trace : bool
            Record every gate, memory and weighted sum (split by source) in
            ``result.trace``. Off by default; costs nothing when off.
        keep_for_backward : bool
            Keep what :meth:`backward` needs (gates and memories, no weighted sums).

        Returns
        -------
        ForwardResult
        """
        x = self._validated_inputs(inputs)
        batch = x.shape[0]
        state = self._validated_state(initial_state, batch)
        engine = self._engine()
        records: list[LayerTrace] = []
        final_h = np.empty_like(state.short_term_memory)
        final_c = np.empty_like(state.long_term_memory)
        layer_input = x
        for layer in range(self.num_layers):
            record = engine.layer_forward(
                layer_input,
                state.short_term_memory[layer],
                state.long_term_memory[layer],
                *self._layer_parameters(layer),
                record_trace,
            )
            records.append(record)
            final_h[layer] = record.short_term_memory[:, -1]
            final_c[layer] = record.long_term_memory[:, -1]
            layer_input = record.short_term_memory  # (B, T, H) feeds the next layer
        output = dense(final_h[-1], self.parameters["head.weight"], self.parameters["head.bias"])
        trace = None
        if record_trace:
            trace = NetworkTrace(
                layers=tuple(records),
                head_weight=self.parameters["head.weight"],
                head_bias=self.parameters["head.bias"],
                output=output,
            )
        return ForwardResult(
            output=output,
            final_state=LSTMState(final_h, final_c),
            trace=trace,
            records=tuple(records) if keep_for_backward else (),
        )

    # ------------------------------------------------------------------ backward
    def backward(
        self,
        result: ForwardResult,
        grad_output: FloatArray,
        grad_final_state: LSTMState | None = None,
    ) -> Gradients:
        """Backpropagate through the head and every layer through time.

        Parameters
        ----------
        result : ForwardResult
            From ``forward(..., keep_for_backward=True)`` with the current parameters.
        grad_output : (B, O)
            dL/d output.
        grad_final_state : LSTMState or None
            dL/dh_T and dL/dc_T of every layer, if the loss used the final state.

        Returns
        -------
        Gradients
        """
        if not result.records:
            raise ValueError(
                "result has no backward record: call forward(..., keep_for_backward=True)."
            )
        top = result.records[-1]
        batch, steps, hidden = top.short_term_memory.shape
        grad_output = np.asarray(grad_output, dtype=self.dtype)
        if grad_output.shape != (batch, self.output_size):
            raise ValueError(
                f"grad_output must have shape (batch, output_size) = "
                f"{(batch, self.output_size)}, got {grad_output.shape}."
            )
        engine = self._engine()
        grads: dict[str, FloatArray] = {
            "head.weight": grad_output.T @ top.short_term_memory[:, -1],
            "head.bias": grad_output.sum(axis=0),
        }
        # dL/dh_t arriving at the top layer from outside its recurrence: only h_T feeds the head.
        grad_h_seq = np.zeros((batch, steps, hidden), dtype=self.dtype)
        grad_h_seq[:, -1] = grad_output @ self.parameters["head.weight"]
        initial_h = np.empty((self.num_layers, batch, hidden), dtype=self.dtype)
        initial_c = np.empty_like(initial_h)
        for layer in reversed(range(self.num_layers)):
            grad_final_c = np.zeros((batch, hidden), dtype=self.dtype)
            if grad_final_state is not None:
                grad_h_seq[:, -1] += grad_final_state.short_term_memory[layer]
                grad_final_c = grad_final_c + grad_final_state.long_term_memory[layer]
            weight_ih, weight_hh, _, _ = self._layer_parameters(layer)
            layer_grads = engine.layer_backward(
                result.records[layer], weight_ih, weight_hh, grad_h_seq, grad_final_c
            )
            grads[f"weight_ih_l{layer}"] = layer_grads.grad_weight_ih
            grads[f"weight_hh_l{layer}"] = layer_grads.grad_weight_hh
            grads[f"bias_ih_l{layer}"] = layer_grads.grad_bias
            grads[f"bias_hh_l{layer}"] = layer_grads.grad_bias.copy()
            initial_h[layer] = layer_grads.grad_initial_short_term_memory
            initial_c[layer] = layer_grads.grad_initial_long_term_memory
            grad_h_seq = layer_grads.grad_inputs  # (B, T, H) for the layer below
        ordered = {name: grads[name] for name in self.parameters}
        return Gradients(ordered, grad_h_seq, LSTMState(initial_h, initial_c))

    # ------------------------------------------------------------------ streaming
    def step(
        self, inputs: FloatArray, state: LSTMState | None = None
    ) -> tuple[FloatArray, LSTMState]:
        """Advance every sequence by one time step, keeping the memories between calls.

        Parameters
        ----------
        inputs : (B, I)
            x_t for each sequence.
        state : LSTMState or None
            The memories after the previous call; zeros when None.

        Returns
        -------
        output : (B, O)
            The Dense head's prediction after this step.
        state : LSTMState
            The new memories, to pass to the next call.
        """
        x = np.asarray(inputs)
        if x.ndim != 2:
            raise ValueError(
                f"inputs must have shape (batch, features) = (B, {self.input_size}) for one "
                f"step, got an array of shape {x.shape}."
            )
        result = self.forward(x[:, None, :], state)
        return result.output, result.final_state

    # ------------------------------------------------------------------ validation
    def _validated_inputs(self, inputs: FloatArray) -> FloatArray:
        x = np.asarray(inputs)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(
                f"inputs must be a float array (float32 or float64), got dtype {x.dtype}; "
                "convert with np.asarray(inputs, dtype=np.float32)."
            )
        if x.ndim != 3:
            raise ValueError(
                f"inputs must have shape (batch, time, features) = (B, T, {self.input_size}), "
                f"got an array with {x.ndim} dimension(s) of shape {x.shape}."
            )
        if x.shape[2] != self.input_size:
            raise ValueError(
                f"inputs have {x.shape[2]} features but the network expects "
                f"input_size={self.input_size}: shape must be (B, T, {self.input_size})."
            )
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"inputs must have at least one sequence and one step, got {x.shape}.")
        if not np.isfinite(x).all():
            raise ValueError(
                "inputs contain NaN or infinite values; fill or drop them before the forward pass."
            )
        return np.ascontiguousarray(x, dtype=self.dtype)

    def _validated_state(self, state: LSTMState | None, batch: int) -> LSTMState:
        if state is None:
            return self.zero_state(batch)
        expected = (self.num_layers, batch, self.hidden_size)
        for name in ("short_term_memory", "long_term_memory"):
            value = np.asarray(getattr(state, name))
            if value.shape != expected:
                raise ValueError(
                    f"initial_state.{name} must have shape (layers, batch, hidden) = "
                    f"{expected}, got {value.shape}."
                )
            if not np.isfinite(value).all():
                raise ValueError(f"initial_state.{name} contains NaN or infinite values.")
        return LSTMState(
            np.ascontiguousarray(state.short_term_memory, dtype=self.dtype),
            np.ascontiguousarray(state.long_term_memory, dtype=self.dtype),
        )


def _validated_dtype(dtype: type[np.floating] | str) -> np.dtype[np.floating]:
    resolved = np.dtype(dtype)
    if resolved not in SUPPORTED_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {resolved}.")
    return resolved


def _validated_backend(backend: str) -> Backend:
    if backend not in ("compiled", "reference"):
        raise ValueError(f"backend must be 'compiled' or 'reference', got {backend!r}.")
    return backend  # type: ignore[return-value]


def _validated_parameters(parameters: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    if "weight_ih_l0" not in parameters or "head.weight" not in parameters:
        raise ValueError(
            "parameters must contain at least 'weight_ih_l0' and 'head.weight'; got "
            f"{sorted(parameters)}."
        )
    first = np.asarray(parameters["weight_ih_l0"])
    dtype = _validated_dtype(first.dtype.type)
    num_layers = sum(1 for name in parameters if name.startswith("weight_ih_l"))
    expected = parameter_shapes(
        input_size=first.shape[1],
        hidden_size=np.asarray(parameters["weight_hh_l0"]).shape[1],
        num_layers=num_layers,
        output_size=np.asarray(parameters["head.weight"]).shape[0],
    )
    unexpected = sorted(set(parameters) - set(expected))
    missing = sorted(set(expected) - set(parameters))
    if unexpected or missing:
        raise ValueError(f"parameters do not form a network: missing {missing}, "
                         f"unexpected {unexpected}.")
    validated: dict[str, FloatArray] = {}
    for name, shape in expected.items():
        value = np.array(parameters[name], copy=True)
        if value.shape != shape:
            raise ValueError(f"parameter {name} must have shape {shape}, got {value.shape}.")
        if value.dtype != dtype:
            raise TypeError(f"parameter {name} is {value.dtype}; all parameters must be {dtype}.")
        validated[name] = value
    return validated
