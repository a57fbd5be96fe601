"""A stacked LSTM with a Dense head: parameters, forward, backward, streaming and trace.

Parameters use PyTorch's names and layout (see :mod:`lstmlens.parameters`), so weights
move to and from ``torch.nn.LSTM`` + ``torch.nn.Linear`` without reshuffling.

The Dense head reads the top layer's last short-term memory h_T and emits ``O`` outputs
(one value, or a whole horizon for direct multi-step forecasting).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lstmlens import checks, fused, kernels, reference
from lstmlens.cell import FloatArray, dense
from lstmlens.packed import PackedLayer
from lstmlens.parameters import SUPPORTED_DTYPES as SUPPORTED_DTYPES
from lstmlens.parameters import (
    Backend,
    ParameterDict,
    _initial_parameters,
    _network_sizes,
    _validated_backend,
    _validated_dtype,
    _validated_parameters,
    _views,
)
from lstmlens.parameters import parameter_shapes as parameter_shapes
from lstmlens.trace import LayerTrace, NetworkTrace

if TYPE_CHECKING:
    from lstmlens.streaming import Streamer


@dataclass(frozen=True)
class LSTMState:
    """The memories carried between calls: h (short-term) and c (long-term), (L, B, H)."""

    short_term_memory: FloatArray
    long_term_memory: FloatArray


@dataclass(frozen=True)
class _PackedCache:
    """The tile-layout weights of :meth:`LSTMNetwork._packed_layers` and what they came from."""

    version: int
    #: The bits of flat_parameters when the layers were packed (:func:`lstmlens.checks.bits`).
    snapshot_bits: np.ndarray
    layers: tuple[Any, ...]


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
    #: The one contiguous buffer the ``parameters`` arrays are views of (same order and
    #: offsets as :attr:`LSTMNetwork.flat_parameters`), or None for hand-built gradients.
    flat: FloatArray | None = field(default=None, repr=False, compare=False)


class LSTMNetwork:
    """Stacked LSTM layers followed by a Dense layer.

    Parameters
    ----------
    parameters : mapping of str to ndarray
        Arrays named and shaped as :func:`parameter_shapes` says, all float32 or all float64.
        They are copied.
    backend : {"compiled", "reference"}
        ``"compiled"`` (default) runs the Numba kernels of :mod:`lstmlens.kernels`;
        ``"reference"`` runs the readable NumPy step one time step at a time (slow; for
        checking).

    See Also
    --------
    LSTMNetwork.initialize : build a network with PyTorch's random initialisation.
    """

    def __init__(self, parameters: Mapping[str, FloatArray], backend: Backend = "compiled"):
        validated = _validated_parameters(parameters)
        self.backend: Backend = _validated_backend(backend)
        (self.num_layers, self.input_size, self.hidden_size,
         self.output_size) = _network_sizes(validated)
        self.dtype = validated["weight_ih_l0"].dtype
        #: Bumped whenever the parameters are replaced or updated by an optimiser, so
        #: caches of derived layouts (see :class:`lstmlens.streaming.Streamer`) can refresh.
        self.version = 0
        # Every parameter lives in one contiguous buffer; ``parameters`` holds views of it,
        # so an optimiser can update all of them in a single compiled loop.
        self._flat = np.concatenate([value.ravel() for value in validated.values()])
        self._flat_bits = checks.bits(self._flat)  # what the packed cache compares
        self._parameters = ParameterDict(_views(self._flat, validated.items()), owner=self)
        # Each layer's four arrays, looked up once: the views never change (assignments
        # copy into them), and four f-string lookups cost 2 us a call.
        self._layers = tuple(
            tuple(self._parameters[f"{name}_l{layer}"]
                  for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            for layer in range(self.num_layers))
        self._packed: _PackedCache | None = None

    @property
    def parameters(self) -> dict[str, FloatArray]:
        """The parameters by PyTorch name, each a view of :attr:`flat_parameters`.

        Assigning ``network.parameters[name] = array`` (or a whole mapping to
        ``network.parameters``) copies the values in; shapes must match.
        """
        return self._parameters

    @parameters.setter
    def parameters(self, values: Mapping[str, FloatArray]) -> None:
        self._parameters.update(values)

    @property
    def flat_parameters(self) -> FloatArray:
        """All parameters in one contiguous 1-D array, in the order of :attr:`parameters`."""
        return self._flat

    def __getstate__(self) -> dict[str, Any]:
        # Views do not survive pickling/deepcopy as views: rebuild the flat buffer instead.
        return {"parameters": {k: v.copy() for k, v in self._parameters.items()},
                "backend": self.backend}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["parameters"], backend=state["backend"])  # type: ignore[misc]

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
        backend: Backend = "compiled",
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
        return cls(_initial_parameters(input_size, hidden_size, num_layers, output_size, dtype,
                                       random_state, forget_bias), backend=backend)

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

    def _layer_parameters(
        self, layer: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        weight_ih, weight_hh, bias_ih, bias_hh = self._layers[layer]
        return weight_ih, weight_hh, bias_ih, bias_hh

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
        given = None if initial_state is None else self._validated_state(initial_state, batch)
        records: list[LayerTrace] = []
        if self.backend == "compiled" and not (record_trace or keep_for_backward):
            # no zero-state arrays: the kernels start from zeros when given None
            final_h, final_c = self._forward_inference(x, given)
        else:
            state = given if given is not None else self.zero_state(batch)
            if self.backend == "reference":
                return self._forward_reference(x, state, record_trace, keep_for_backward)
            final_h, final_c = self._forward_keeping(x, state, record_trace, records)
        output = np.empty((batch, self.output_size), self.dtype)
        fused.dense_forward(final_h[-1], self.parameters["head.weight"],
                            self.parameters["head.bias"], output)
        return self._result(output, final_h, final_c, records, record_trace, keep_for_backward)

    def _forward_keeping(self, x: FloatArray, state: LSTMState, record_trace: bool,
                         records: list[LayerTrace]) -> tuple[FloatArray, FloatArray]:
        """The compiled layers, each record (what backward and explanations read) appended
        to ``records``; returns h_T and c_T of every layer, (L, B, H) each."""
        final_h = np.empty_like(state.short_term_memory)
        final_c = np.empty_like(state.long_term_memory)
        layer_input = x
        for layer, packed in enumerate(self._packed_layers()):
            record = kernels.layer_forward(
                layer_input, state.short_term_memory[layer], state.long_term_memory[layer],
                *self._layer_parameters(layer), record_trace, packed=packed)
            records.append(record)
            final_h[layer] = record.short_term_memory[:, -1]
            final_c[layer] = record.long_term_memory[:, -1]
            layer_input = record.short_term_memory  # (B, T, H) feeds the next layer
        return final_h, final_c

    def _forward_inference(self, x: FloatArray,
                           state: LSTMState | None) -> tuple[FloatArray, FloatArray]:
        """The compiled layers with no per-step record, only what the layer above reads;
        ``state`` None starts from zero memories. Returns h_T and c_T, (L, B, H) each.

        Lean on purpose: for one short series a forward call is mostly Python (a 24-step
        forward of 8 units took 12.4 us per call through the keeping path's arrays and
        copies, 9.6 us like this).
        """
        finals_h, finals_c = [], []
        layer_input = x
        top = self.num_layers - 1
        for layer, packed in enumerate(self._packed_layers()):
            h0 = c0 = None
            if state is not None:
                h0, c0 = state.short_term_memory[layer], state.long_term_memory[layer]
            final_h, final_c, sequence = kernels.layer_outputs(
                layer_input, h0, c0, packed, sequence=layer != top)
            finals_h.append(final_h)
            finals_c.append(final_c)
            if sequence is not None:
                layer_input = sequence
        if len(finals_h) == 1:  # views, not copies
            return finals_h[0][None], finals_c[0][None]
        return np.stack(finals_h), np.stack(finals_c)

    def _packed_layers(self) -> tuple[PackedLayer, ...]:
        """Every layer's weights in the kernels' tile layout, repacked only when they changed.

        Packing is a transpose of all weights (a few hundred microseconds for 256 units). It
        is redone when :attr:`version` moved (an optimiser step, an assignment) and, since
        parameter arrays can also be edited in place, when the weights differ from the
        snapshot taken at the last packing (comparing is several times cheaper than packing).
        """
        cache = self._packed
        if cache is not None and cache.version == self.version and checks.same_bits(
                cache.snapshot_bits, self._flat_bits):
            return cache.layers
        layers = tuple(PackedLayer(*self._layer_parameters(layer), self.dtype)
                       for layer in range(self.num_layers))
        self._packed = _PackedCache(self.version, self._flat_bits.copy(), layers)
        return layers

    def _forward_reference(self, x: FloatArray, state: LSTMState, record_trace: bool,
                           keep_for_backward: bool) -> ForwardResult:
        """:meth:`forward` through the readable NumPy step, one time step at a time."""
        records: list[LayerTrace] = []
        final_h = np.empty_like(state.short_term_memory)
        final_c = np.empty_like(state.long_term_memory)
        layer_input = x
        for layer in range(self.num_layers):
            record = reference.layer_forward(
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
        return self._result(output, final_h, final_c, records, record_trace, keep_for_backward)

    def _result(self, output: FloatArray, final_h: FloatArray, final_c: FloatArray,
                records: list[LayerTrace], record_trace: bool,
                keep_for_backward: bool) -> ForwardResult:
        trace = None
        if record_trace:
            trace = NetworkTrace(
                layers=tuple(records),
                head_weight=self.parameters["head.weight"].copy(),  # snapshot: Adam edits in place
                head_bias=self.parameters["head.bias"].copy(),
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
        # Parameter gradients go into one flat buffer laid out like flat_parameters.
        flat = np.empty_like(self._flat)
        grads = dict(_views(flat, self._parameters.items()))
        top_last = np.ascontiguousarray(top.short_term_memory[:, -1])  # h_T of the top layer
        # dL/dh_t arriving at the top layer from outside its recurrence: only h_T feeds the head.
        grad_h_seq = np.zeros((batch, steps, hidden), dtype=self.dtype)
        if self.backend == "reference":
            np.matmul(grad_output.T, top_last, out=grads["head.weight"])  # (O, H)
            grad_output.sum(axis=0, out=grads["head.bias"])
            grad_h_seq[:, -1] = grad_output @ self._parameters["head.weight"]
        else:
            grad_top = np.empty((batch, hidden), self.dtype)
            fused.dense_backward(np.ascontiguousarray(grad_output), top_last,
                                 self._parameters["head.weight"], grads["head.weight"],
                                 grads["head.bias"], grad_top)
            grad_h_seq[:, -1] = grad_top
        initial_h = np.empty((self.num_layers, batch, hidden), dtype=self.dtype)
        initial_c = np.empty_like(initial_h)
        for layer in reversed(range(self.num_layers)):
            grad_final_c = np.zeros((batch, hidden), dtype=self.dtype)
            if grad_final_state is not None:
                grad_h_seq[:, -1] += grad_final_state.short_term_memory[layer]
                grad_final_c += grad_final_state.long_term_memory[layer]
            weight_ih, weight_hh, _, _ = self._layer_parameters(layer)
            targets = (grads[f"weight_ih_l{layer}"], grads[f"weight_hh_l{layer}"],
                       grads[f"bias_ih_l{layer}"])
            if self.backend == "reference":
                layer_grads = reference.layer_backward(
                    result.records[layer], weight_ih, weight_hh, grad_h_seq, grad_final_c
                )
                targets[0][...] = layer_grads.grad_weight_ih
                targets[1][...] = layer_grads.grad_weight_hh
                targets[2][...] = layer_grads.grad_bias
            else:
                layer_grads = kernels.layer_backward(
                    result.records[layer], weight_ih, weight_hh, grad_h_seq, grad_final_c,
                    out=targets,
                )
            grads[f"bias_hh_l{layer}"][...] = targets[2]  # both biases get the same gradient
            initial_h[layer] = layer_grads.grad_initial_short_term_memory
            initial_c[layer] = layer_grads.grad_initial_long_term_memory
            grad_h_seq = layer_grads.grad_inputs  # (B, T, H) for the layer below
        return Gradients(grads, grad_h_seq, LSTMState(initial_h, initial_c), flat=flat)

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

    def stream(self, batch: int = 1, state: LSTMState | None = None) -> Streamer:
        """Return a :class:`~lstmlens.streaming.Streamer` for fast one-step-at-a-time updates.

        The streamer keeps h (short-term memory) and c (long-term memory) of every layer
        between calls and runs all layers and the Dense head in one compiled call per
        :meth:`~lstmlens.streaming.Streamer.push`.

        Parameters
        ----------
        batch : int
            Number of series advanced together (B).
        state : LSTMState or None
            Starting memories, (L, B, H) each; zeros when None.
        """
        from lstmlens.streaming import Streamer

        return Streamer(self, batch=batch, state=state)

    # ------------------------------------------------------------------ validation
    def _validated_inputs(self, inputs: FloatArray) -> FloatArray:
        x = np.asarray(inputs)
        if x.dtype.kind != "f":
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
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if not checks.all_finite(x):
            raise ValueError(
                "inputs contain NaN or infinite values; fill or drop them before the forward pass."
            )
        return x

    def _validated_state(self, state: LSTMState | None, batch: int) -> LSTMState:
        if state is None:
            return self.zero_state(batch)
        expected = (self.num_layers, batch, self.hidden_size)
        memories = []
        for name in ("short_term_memory", "long_term_memory"):
            value = np.asarray(getattr(state, name))
            if value.shape != expected:
                raise ValueError(
                    f"initial_state.{name} must have shape (layers, batch, hidden) = "
                    f"{expected}, got {value.shape}."
                )
            value = np.ascontiguousarray(value, dtype=self.dtype)
            if not checks.all_finite(value):
                raise ValueError(f"initial_state.{name} contains NaN or infinite values.")
            memories.append(value)
        return LSTMState(*memories)
