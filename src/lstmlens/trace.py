"""What the engine records when it runs: every gate, memory and weighted sum.

The trace is the single source of truth for explanations: narration, figures and the
explorer read these arrays; they never recompute the LSTM math their own way.

Arrays are ``(batch, time, ...)``. Gates are stored stacked in PyTorch's order i, f, g, o
along the last axis of ``gates`` and exposed under the seed's names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmlens.cell import FloatArray, StepTrace


@dataclass(frozen=True)
class LayerTrace:
    """Every value one LSTM layer computed over a whole batch of sequences.

    Attributes
    ----------
    inputs : (B, T, I)
        x_t for every step (the layer below's short-term memory for layers above 0).
    initial_short_term_memory, initial_long_term_memory : (B, H)
        h_0 and c_0, the memories the sequence started from.
    gates : (B, T, 4H)
        Activations i_t, f_t, g_t, o_t stacked in PyTorch's order.
    long_term_memory : (B, T, H)
        c_t, the cell state after each step.
    short_term_memory : (B, T, H)
        h_t, the hidden state after each step.
    bias : (4H,)
        b_ih + b_hh, the bias every step adds.
    input_part, memory_part : (B, T, 4H) or None
        The weighted sums split by source (``W_ih x_t`` and ``W_hh h_{t-1}``). Recorded
        only for explanation traces; ``None`` in the lighter record kept for backward.
    """

    inputs: FloatArray
    initial_short_term_memory: FloatArray
    initial_long_term_memory: FloatArray
    gates: FloatArray
    long_term_memory: FloatArray
    short_term_memory: FloatArray
    bias: FloatArray
    input_part: FloatArray | None = None
    memory_part: FloatArray | None = None

    @property
    def hidden_size(self) -> int:
        """H, the number of units in the layer."""
        return int(self.short_term_memory.shape[2])

    @property
    def steps(self) -> int:
        """T, the number of time steps recorded."""
        return int(self.short_term_memory.shape[1])

    def _gate(self, index: int) -> FloatArray:
        hidden = self.hidden_size
        return self.gates[:, :, index * hidden : (index + 1) * hidden]

    @property
    def input_gate(self) -> FloatArray:
        """i_t (B, T, H): the "% to remember" of the potential memory."""
        return self._gate(0)

    @property
    def forget_gate(self) -> FloatArray:
        """f_t (B, T, H): the % of the long-term memory kept."""
        return self._gate(1)

    @property
    def candidate_memory(self) -> FloatArray:
        """g_t (B, T, H): the potential long-term memory (tanh path)."""
        return self._gate(2)

    @property
    def output_gate(self) -> FloatArray:
        """o_t (B, T, H): the % of the memory let out as short-term memory."""
        return self._gate(3)

    @property
    def previous_short_term_memory(self) -> FloatArray:
        """h_{t-1} for every step (B, T, H): h_0 followed by h_1 .. h_{T-1}."""
        return np.concatenate(
            [self.initial_short_term_memory[:, None, :], self.short_term_memory[:, :-1, :]], axis=1
        )

    @property
    def previous_long_term_memory(self) -> FloatArray:
        """c_{t-1} for every step (B, T, H): c_0 followed by c_1 .. c_{T-1}."""
        return np.concatenate(
            [self.initial_long_term_memory[:, None, :], self.long_term_memory[:, :-1, :]], axis=1
        )

    @property
    def weighted_sum(self) -> FloatArray:
        """z_t (B, T, 4H), the totals before the activations (needs a full trace)."""
        input_part, memory_part = self._require_parts()
        return input_part + memory_part + self.bias

    def _require_parts(self) -> tuple[FloatArray, FloatArray]:
        if self.input_part is None or self.memory_part is None:
            raise ValueError(
                "This record was kept for backward only and has no weighted sums; "
                "run forward(..., record_trace=True) to get a full trace."
            )
        return self.input_part, self.memory_part

    def step(self, time: int, row: int = 0) -> StepTrace:
        """Return step ``time`` of batch row ``row`` as a one-row :class:`StepTrace`.

        Parameters
        ----------
        time : int
            Step index in ``[0, T)``; negative values count from the end.
        row : int
            Batch row (series or window) in ``[0, B)``.
        """
        batch, steps = self.short_term_memory.shape[:2]
        _check_index("time", time, steps)
        _check_index("row", row, batch)
        input_part, memory_part = self._require_parts()
        picked = slice(row, row + 1)
        return StepTrace(
            inputs=self.inputs[picked, time],
            previous_short_term_memory=self.previous_short_term_memory[picked, time],
            previous_long_term_memory=self.previous_long_term_memory[picked, time],
            input_part=input_part[picked, time],
            memory_part=memory_part[picked, time],
            bias=self.bias,
            input_gate=self.input_gate[picked, time],
            forget_gate=self.forget_gate[picked, time],
            candidate_memory=self.candidate_memory[picked, time],
            output_gate=self.output_gate[picked, time],
            long_term_memory=self.long_term_memory[picked, time],
            short_term_memory=self.short_term_memory[picked, time],
        )


@dataclass(frozen=True)
class NetworkTrace:
    """The trace of a stacked LSTM and its Dense head over a batch of sequences.

    Attributes
    ----------
    layers : tuple of LayerTrace
        One record per LSTM layer, bottom first.
    head_weight : (O, H)
        The Dense layer's weights.
    head_bias : (O,)
        The Dense layer's bias.
    output : (B, O)
        The Dense layer's prediction from the top layer's last short-term memory.
    """

    layers: tuple[LayerTrace, ...]
    head_weight: FloatArray
    head_bias: FloatArray
    output: FloatArray

    def step(self, layer: int, time: int, row: int = 0) -> StepTrace:
        """Return one step of one layer for one batch row (see :meth:`LayerTrace.step`)."""
        _check_index("layer", layer, len(self.layers))
        return self.layers[layer].step(time, row)

    @property
    def head_contributions(self) -> FloatArray:
        """weight x h_T per unit (B, O, H): how each unit's short-term memory moves each output.

        Summed over units and added to ``head_bias`` it gives ``output``.
        """
        last_memory = self.layers[-1].short_term_memory[:, -1, :]  # (B, H)
        return last_memory[:, None, :] * self.head_weight[None, :, :]


def _check_index(name: str, value: int, size: int) -> None:
    if not -size <= value < size:
        raise IndexError(f"{name}={value} is outside the trace: allowed {-size}..{size - 1}.")
