"""One LSTM step in plain NumPy, named the way the seed text names things.

This is the readable reference that every fast path is tested against. Each line of
:func:`lstm_step` implements one equation below, and :func:`lstm_step_backward` sits right
after it so the two can be checked against each other without scrolling.

Notation (batch ``B``, input features ``I``, hidden units ``H``; PyTorch's layout and gate
order i, f, g, o)::

    z_t = W_ih x_t + W_hh h_{t-1} + b_ih + b_hh      weighted sums, shape (B, 4H)
    i_t = sigmoid(z_i)     input_gate        "% to remember" of the new information
    f_t = sigmoid(z_f)     forget_gate       % of the long-term memory kept
    g_t = tanh(z_g)        candidate_memory  "potential long-term memory"
    o_t = sigmoid(z_o)     output_gate       % of the memory let out as short-term memory
    c_t = f_t * c_{t-1} + i_t * g_t          long_term_memory (cell state)
    h_t = o_t * tanh(c_t)                    short_term_memory (hidden state)
    y   = W_dense h_t + b_dense              the Dense layer's prediction
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]

#: Gate order inside the stacked ``4H`` axis, as in ``torch.nn.LSTM``.
GATE_ORDER = ("input_gate", "forget_gate", "candidate_memory", "output_gate")


def sigmoid(z: FloatArray) -> FloatArray:
    """Squash any number into (0, 1): the seed's "percentage" function.

    Written as ``0.5 * (1 + tanh(z / 2))``, which equals ``1 / (1 + exp(-z))`` but never
    overflows for large negative ``z``.
    """
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=z.dtype)


def tanh(z: FloatArray) -> FloatArray:
    """Squash any number into (-1, 1): the seed's "new value" function."""
    return np.tanh(z)


@dataclass(frozen=True)
class StepTrace:
    """Every number one LSTM step computed, for a batch of ``B`` rows.

    The weighted sums are kept split by source so an explanation can say how much came
    from the new input, how much from the short-term memory and how much from the bias.

    Attributes
    ----------
    inputs : (B, I)
        x_t, the new information fed to the unit.
    previous_short_term_memory : (B, H)
        h_{t-1}, the hidden state the step started from.
    previous_long_term_memory : (B, H)
        c_{t-1}, the cell state the step started from.
    input_part : (B, 4H)
        ``x_t @ W_ih.T``: the weighted input, per gate (order i, f, g, o).
    memory_part : (B, 4H)
        ``h_{t-1} @ W_hh.T``: the weighted short-term memory, per gate.
    bias : (4H,)
        ``b_ih + b_hh``: the bias each gate adds.
    input_gate, forget_gate, candidate_memory, output_gate : (B, H)
        i_t, f_t, g_t, o_t after their activations.
    long_term_memory : (B, H)
        c_t, the new cell state.
    short_term_memory : (B, H)
        h_t, the new hidden state.
    """

    inputs: FloatArray
    previous_short_term_memory: FloatArray
    previous_long_term_memory: FloatArray
    input_part: FloatArray
    memory_part: FloatArray
    bias: FloatArray
    input_gate: FloatArray
    forget_gate: FloatArray
    candidate_memory: FloatArray
    output_gate: FloatArray
    long_term_memory: FloatArray
    short_term_memory: FloatArray

    @property
    def weighted_sum(self) -> FloatArray:
        """z_t, the total before each activation, shape (B, 4H)."""
        return self.input_part + self.memory_part + self.bias

    @property
    def kept_memory(self) -> FloatArray:
        """f_t * c_{t-1}: the part of the old long-term memory that survives, (B, H)."""
        return self.forget_gate * self.previous_long_term_memory

    @property
    def added_memory(self) -> FloatArray:
        """i_t * g_t: what the input gate writes into the long-term memory, (B, H)."""
        return self.input_gate * self.candidate_memory


@dataclass(frozen=True)
class StepGradients:
    """Gradients of a loss with respect to everything one step used.

    ``grad_bias`` is the gradient of the summed bias; PyTorch's ``bias_ih`` and ``bias_hh``
    each receive this same value.
    """

    grad_inputs: FloatArray
    grad_previous_short_term_memory: FloatArray
    grad_previous_long_term_memory: FloatArray
    grad_weight_ih: FloatArray
    grad_weight_hh: FloatArray
    grad_bias: FloatArray


def lstm_step(
    inputs: FloatArray,
    short_term_memory: FloatArray,
    long_term_memory: FloatArray,
    weight_ih: FloatArray,
    weight_hh: FloatArray,
    bias_ih: FloatArray,
    bias_hh: FloatArray,
) -> StepTrace:
    """Run one LSTM step for a batch and record every value it computes.

    Parameters
    ----------
    inputs : (B, I)
        x_t, the new information.
    short_term_memory : (B, H)
        h_{t-1}, the hidden state carried from the previous step.
    long_term_memory : (B, H)
        c_{t-1}, the cell state carried from the previous step.
    weight_ih : (4H, I)
        Weights applied to the input, gates stacked i, f, g, o (PyTorch layout).
    weight_hh : (4H, H)
        Weights applied to the short-term memory.
    bias_ih, bias_hh : (4H,)
        The two biases, added together as PyTorch does.

    Returns
    -------
    StepTrace
        The inputs, the weighted sums split by source, the four gates (i_t, f_t, g_t,
        o_t), the new long-term memory c_t and the new short-term memory h_t.
    """
    hidden = weight_hh.shape[1]
    input_part = inputs @ weight_ih.T  # (B, 4H)
    memory_part = short_term_memory @ weight_hh.T  # (B, 4H)
    bias = bias_ih + bias_hh  # (4H,)
    weighted_sum = input_part + memory_part + bias
    z_i, z_f, z_g, z_o = (weighted_sum[:, k * hidden : (k + 1) * hidden] for k in range(4))

    forget_gate = sigmoid(z_f)  # f_t: % of the long-term memory kept
    input_gate = sigmoid(z_i)  # i_t: % of the potential memory to remember
    candidate_memory = tanh(z_g)  # g_t: the potential long-term memory
    output_gate = sigmoid(z_o)  # o_t: % of the memory let out
    new_long_term_memory = forget_gate * long_term_memory + input_gate * candidate_memory
    new_short_term_memory = output_gate * tanh(new_long_term_memory)

    return StepTrace(
        inputs=inputs,
        previous_short_term_memory=short_term_memory,
        previous_long_term_memory=long_term_memory,
        input_part=input_part,
        memory_part=memory_part,
        bias=bias,
        input_gate=input_gate,
        forget_gate=forget_gate,
        candidate_memory=candidate_memory,
        output_gate=output_gate,
        long_term_memory=new_long_term_memory,
        short_term_memory=new_short_term_memory,
    )


def lstm_step_backward(
    step: StepTrace,
    weight_ih: FloatArray,
    weight_hh: FloatArray,
    grad_short_term_memory: FloatArray,
    grad_long_term_memory: FloatArray,
) -> StepGradients:
    """Backpropagate through one step recorded by :func:`lstm_step`.

    Parameters
    ----------
    step : StepTrace
        The forward values of the step.
    weight_ih, weight_hh : (4H, I), (4H, H)
        The weights the step used.
    grad_short_term_memory : (B, H)
        dL/dh_t, from the layer above, the Dense head and the next step.
    grad_long_term_memory : (B, H)
        dL/dc_t arriving from the next step (zero at the last step).

    Returns
    -------
    StepGradients
        dL/dx_t, dL/dh_{t-1}, dL/dc_{t-1} and this step's share of the weight and bias
        gradients.
    """
    squashed_memory = np.tanh(step.long_term_memory)
    grad_output_gate = grad_short_term_memory * squashed_memory
    # c_t reaches the loss directly (next step) and through h_t = o_t * tanh(c_t).
    grad_memory = grad_long_term_memory + grad_short_term_memory * step.output_gate * (
        1.0 - squashed_memory**2
    )
    grad_forget_gate = grad_memory * step.previous_long_term_memory
    grad_input_gate = grad_memory * step.candidate_memory
    grad_candidate = grad_memory * step.input_gate

    # Back through the activations to the weighted sums z (order i, f, g, o).
    grad_weighted_sum = np.concatenate(
        [
            grad_input_gate * step.input_gate * (1.0 - step.input_gate),
            grad_forget_gate * step.forget_gate * (1.0 - step.forget_gate),
            grad_candidate * (1.0 - step.candidate_memory**2),
            grad_output_gate * step.output_gate * (1.0 - step.output_gate),
        ],
        axis=1,
    )  # (B, 4H)

    return StepGradients(
        grad_inputs=grad_weighted_sum @ weight_ih,
        grad_previous_short_term_memory=grad_weighted_sum @ weight_hh,
        grad_previous_long_term_memory=grad_memory * step.forget_gate,
        grad_weight_ih=grad_weighted_sum.T @ step.inputs,
        grad_weight_hh=grad_weighted_sum.T @ step.previous_short_term_memory,
        grad_bias=grad_weighted_sum.sum(axis=0),
    )


def dense(short_term_memory: FloatArray, weight: FloatArray, bias: FloatArray) -> FloatArray:
    """The Dense layer: turn the short-term memory h_t (B, H) into predictions (B, O)."""
    return short_term_memory @ weight.T + bias
