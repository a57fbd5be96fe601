"""Whole-layer forward and backward built from the readable step in :mod:`lstmlens.cell`.

These loops are slow and obvious on purpose: they are the ground truth the compiled kernels
in :mod:`lstmlens.kernels` are tested against, with exactly the same signatures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmlens.cell import FloatArray, StepTrace, lstm_step, lstm_step_backward
from lstmlens.trace import LayerTrace


@dataclass(frozen=True)
class LayerGradients:
    """Gradients of the loss with respect to one layer's inputs, parameters and start state.

    ``grad_bias`` is shared by PyTorch's ``bias_ih`` and ``bias_hh``.
    """

    grad_inputs: FloatArray  # (B, T, I)
    grad_weight_ih: FloatArray  # (4H, I)
    grad_weight_hh: FloatArray  # (4H, H)
    grad_bias: FloatArray  # (4H,)
    grad_initial_short_term_memory: FloatArray  # (B, H)
    grad_initial_long_term_memory: FloatArray  # (B, H)


def layer_forward(
    inputs: FloatArray,
    initial_short_term_memory: FloatArray,
    initial_long_term_memory: FloatArray,
    weight_ih: FloatArray,
    weight_hh: FloatArray,
    bias_ih: FloatArray,
    bias_hh: FloatArray,
    record_parts: bool,
) -> LayerTrace:
    """Run one LSTM layer over whole sequences, one :func:`lstm_step` at a time.

    Parameters
    ----------
    inputs : (B, T, I)
        The sequences x_1 .. x_T.
    initial_short_term_memory, initial_long_term_memory : (B, H)
        h_0 and c_0.
    weight_ih, weight_hh, bias_ih, bias_hh
        The layer's parameters in PyTorch's layout.
    record_parts : bool
        Keep the weighted sums split by source (for explanations).

    Returns
    -------
    LayerTrace
    """
    batch, steps, _ = inputs.shape
    hidden = weight_hh.shape[1]
    gates = np.empty((batch, steps, 4 * hidden), dtype=inputs.dtype)
    long_term = np.empty((batch, steps, hidden), dtype=inputs.dtype)
    short_term = np.empty((batch, steps, hidden), dtype=inputs.dtype)
    input_part = np.empty_like(gates) if record_parts else None
    memory_part = np.empty_like(gates) if record_parts else None
    h, c = initial_short_term_memory, initial_long_term_memory
    for t in range(steps):
        step = lstm_step(inputs[:, t], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        gates[:, t] = np.concatenate(
            [step.input_gate, step.forget_gate, step.candidate_memory, step.output_gate], axis=1
        )
        long_term[:, t], short_term[:, t] = step.long_term_memory, step.short_term_memory
        if input_part is not None and memory_part is not None:
            input_part[:, t], memory_part[:, t] = step.input_part, step.memory_part
        h, c = step.short_term_memory, step.long_term_memory
    return LayerTrace(
        inputs=inputs,
        initial_short_term_memory=initial_short_term_memory,
        initial_long_term_memory=initial_long_term_memory,
        gates=gates,
        long_term_memory=long_term,
        short_term_memory=short_term,
        bias=bias_ih + bias_hh,
        input_part=input_part,
        memory_part=memory_part,
    )


def layer_backward(
    record: LayerTrace,
    weight_ih: FloatArray,
    weight_hh: FloatArray,
    grad_short_term_memory: FloatArray,
    grad_final_long_term_memory: FloatArray,
) -> LayerGradients:
    """Backpropagate through time over one layer with :func:`lstm_step_backward`.

    Parameters
    ----------
    record : LayerTrace
        The layer's forward record (weighted sums not needed).
    weight_ih, weight_hh
        The layer's weights.
    grad_short_term_memory : (B, T, H)
        dL/dh_t arriving from outside the layer's recurrence at every step (the layer above,
        the Dense head, the final state).
    grad_final_long_term_memory : (B, H)
        dL/dc_T from outside (the final state).

    Returns
    -------
    LayerGradients
    """
    hidden = weight_hh.shape[1]
    grad_inputs = np.zeros_like(record.inputs)
    grad_weight_ih = np.zeros_like(weight_ih)
    grad_weight_hh = np.zeros_like(weight_hh)
    grad_bias = np.zeros(4 * hidden, dtype=weight_ih.dtype)
    grad_h = np.zeros_like(record.initial_short_term_memory)
    grad_c = grad_final_long_term_memory
    previous_h = record.previous_short_term_memory
    previous_c = record.previous_long_term_memory
    for t in reversed(range(record.steps)):
        step = StepTrace(
            inputs=record.inputs[:, t],
            previous_short_term_memory=previous_h[:, t],
            previous_long_term_memory=previous_c[:, t],
            input_part=np.empty(0),
            memory_part=np.empty(0),
            bias=record.bias,
            input_gate=record.input_gate[:, t],
            forget_gate=record.forget_gate[:, t],
            candidate_memory=record.candidate_memory[:, t],
            output_gate=record.output_gate[:, t],
            long_term_memory=record.long_term_memory[:, t],
            short_term_memory=record.short_term_memory[:, t],
        )
        grads = lstm_step_backward(
            step, weight_ih, weight_hh, grad_h + grad_short_term_memory[:, t], grad_c
        )
        grad_inputs[:, t] = grads.grad_inputs
        grad_weight_ih += grads.grad_weight_ih
        grad_weight_hh += grads.grad_weight_hh
        grad_bias += grads.grad_bias
        grad_h, grad_c = grads.grad_previous_short_term_memory, grads.grad_previous_long_term_memory
    return LayerGradients(
        grad_inputs=grad_inputs,
        grad_weight_ih=grad_weight_ih,
        grad_weight_hh=grad_weight_hh,
        grad_bias=grad_bias,
        grad_initial_short_term_memory=grad_h,
        grad_initial_long_term_memory=grad_c,
    )
