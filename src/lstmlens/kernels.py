"""Compiled whole-layer LSTM forward and backward, with :mod:`lstmlens.reference`'s signatures.

This module decides *how* a layer runs; the loops themselves are in :mod:`lstmlens.sequences`
(forward) and :mod:`lstmlens.bptt` (backward through time), built from the register tiles
of :mod:`lstmlens.tiles`, on weights repacked by :mod:`lstmlens.layouts`:

* all steps of all rows are one compiled call: the input projection ``W_ih x_t``, the
  recurrent product ``W_hh h_{t-1}``, the gates and the memory update of a tile of units
  happen together while the sums are in registers;
* batch rows are independent, so from :data:`PARALLEL_MIN_WORK` multiply-adds per call the
  rows are split into one block per thread (:func:`numba.get_num_threads`, set it with
  :func:`numba.set_num_threads`), each running the whole time loop: threads meet once per
  call, not once per step;
* a batch too small to split (fewer than :data:`UNIT_SPLIT_MAX_BATCH` rows, e.g. one
  series) splits its tiles of units instead, the threads meeting at a spinning barrier
  every step (:mod:`lstmlens.atomics`): each then streams only its share of the weights,
  which is what a one-row step waits for; a forecasting pass (no gates kept) of a layer of
  :data:`FORECAST_UNIT_SPLIT_MIN_TILES` tiles or more splits its units whatever the batch;
* a batch of :data:`LANES_MIN_BATCH` rows or more runs forward with the rows in the vector
  lanes instead (:mod:`lstmlens.lanes`), on a CPU without AVX-512 and, with it, for layers
  of at most half a tile of units (:data:`LANES_MAX_HIDDEN`): 16 series per vector, every
  weight a broadcast, gates and memory update vectorised across series; explanation traces
  keep the tiles;
* a tile of a wide layer sums over h_{t-1} in stages, each reading a slice of the tile's
  weights that stays in the L1 cache (:data:`lstmlens.sequences.STAGE_BYTES`);
* backward keeps dL/dz_t of every step, step-major (the rows of a step side by side), and
  accumulates dL/dW and dL/dx in the same compiled call and parallel region, without BLAS
  (see :mod:`lstmlens.bptt` for why); one call before it makes everything else it
  reads and writes (:func:`lstmlens.bptt.backward_operands`).

float64 follows :mod:`lstmlens.reference` to rounding (1e-12 in practice). float32 uses a
rational tanh/sigmoid (abs. error < 4e-7) and agrees with float64 to about 1e-5 on typical
data.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np

from lstmlens import atomics, bptt, compile_ahead, lanes, layouts, memory, sequences
from lstmlens.activations import cached_on_disk
from lstmlens.cell import FloatArray
from lstmlens.cpu import has_avx512
from lstmlens.packed import PackedLayer
from lstmlens.reference import LayerGradients
from lstmlens.trace import LayerTrace

#: Whether freed arrays are kept for reuse in this process (:mod:`lstmlens.memory`): set
#: when the engine is imported, as the per-step arrays otherwise cost page faults.
KEEPS_FREED_MEMORY = memory.keep_freed_memory()
#: Multiply-adds per call (B x T x 4H x (I + H)) from which the batch is split over threads.
#: Below it (about 10 us of work) waking the thread team costs more than it saves.
PARALLEL_MIN_WORK = 1 << 18
#: Batches smaller than this split their units over threads instead of their rows: each
#: thread then reads only its half of the weights, which a one-row step is limited by.
UNIT_SPLIT_MAX_BATCH = 2 * sequences.ROWS
#: Tiles of units a layer needs before its units are split: the threads meet once (forward)
#: or twice (backward) per step, and below 8 tiles (128 units) the meetings cost as much as
#: the halved weights save (measured at batch 1, split against one thread: 128-256 units 1.2-1.7x
#: for inference and 1.1-1.4x for training; 64 units 0.7-1.2x, and in long benchmark runs a
#: few times much slower, when a spinning thread waited for a core the machine had taken).
UNIT_SPLIT_MIN_TILES = {"forward": 8, "backward": 8}
#: Tiles from which a forward pass that keeps no gates (forecasting) splits its units at any
#: batch size. Against the rows split, on two threads of an AMD Zen 5 VM (48 KiB L1 and
#: 1 MiB L2 per core), 24 and 96 steps, four interleaved repeats each: 1.12-1.21x faster at
#: 256 units from 32 to 256 rows (each thread reads half of the 1 MiB of weights per step,
#: and without the stages of :data:`lstmlens.sequences.STAGE_BYTES`), 1.03-1.04x at 64-128
#: units; at 32 units (two tiles) 0.9x at 8 rows. With the gates kept for backward the split
#: was slower (0.83x at 64 units and 0.5x at 32, 256 rows): both threads write parts of every
#: row of the per-step outputs.
FORECAST_UNIT_SPLIT_MIN_TILES = 4
#: Tiles from which a forward pass that keeps the gates for backward splits its units at any
#: batch size: at 256 units the layer's 1.06 MB of float32 weights no longer fit a 1 MiB L2,
#: and each thread's half does. Whole training steps (forward, backward, Adam) against the
#: rows split, two threads of a Zen 5 VM, six interleaved rounds, two runs: 1.12-1.16x at
#: batch 32 and 24 steps, 1.06-1.08x at 96 steps, 1.14x at batch 256; at 128 units 0.97-1.04x
#: (32-256 rows), so not there.
KEEP_UNIT_SPLIT_MIN_TILES = 16
#: Batches of at least this many rows run forward with the rows in the vector lanes
#: (:mod:`lstmlens.lanes`; same results to the bit): two blocks, one per thread. Against the
#: tiles, in one run on two threads of an AVX2 machine, 24 steps: 1.4-1.6x faster from 32
#: to 256 rows and 8 to 256 units; at 16 rows (one block, one thread) 1.5x at 8 units but
#: 0.75x at 64.
LANES_MIN_BATCH = 2 * lanes.LANES
#: The widest layer that runs on the lanes. With AVX-512 (in the 512-bit vectors the tiles
#: ask for, :mod:`lstmlens.cpu`) the tiles' 4 x 64 sums fit its 32 registers and the tiles
#: run forward faster from 12 units up (two threads of a Sapphire Rapids VM, 24 steps, 256
#: rows: 1.3 against 2.3 ms at 64 units, 14 against 21 ms at 256; of an AMD Zen 4 VM, 32 and
#: 256 rows, 24 and 96 steps, six interleaved repeats: lanes 0.53-0.61x at 16 units,
#: 0.71-0.92x at 12, where whole training steps were 0.99-1.38x). A layer of at most half a
#: tile leaves half or more of each tile's lanes padding, and there the lanes won on the Zen 4
#: VM: forward 1.19-1.35x at 8 units (one point 0.94x) and 1.26-2.0x at 4, training steps
#: 1.13-1.27x and 1.08-1.34x. With AVX2's 16 registers the tiles spill, and the lanes win at
#: every width.
LANES_MAX_HIDDEN = layouts.UNITS // 2 if has_avx512() else 1 << 30
#: Set once a unit split has timed out at its barrier in this process (its threads did not
#: run at the same time): from then on small batches run on one thread.
_unit_split_failed = False


def compiled_on_disk() -> bool:
    """Whether Numba's disk cache already holds the whole-sequence kernels.

    When it does not (a first run after installing), the first forward and backward pass
    compile them for this CPU, which takes tens of seconds; callers use this to say so.
    Errs towards True if Numba's cache cannot be inspected.
    """
    return cached_on_disk(sequences.forward_rows, bptt.backward_rows)


def thread_chunks(batch: int, steps: int, features: int, hidden: int) -> int:
    """How many blocks of batch rows a call runs on threads (1 = on the calling thread)."""
    if batch < UNIT_SPLIT_MAX_BATCH or (
            batch * steps * 4 * hidden * (features + hidden) < PARALLEL_MIN_WORK):
        return 1  # (asked first: get_num_threads starts Numba's thread team)
    return min(int(numba.get_num_threads()), batch)


def unit_parts(batch: int, steps: int, features: int, hidden: int,
               direction: str = "forward") -> int:
    """How many threads share out the units of a layer (1 = no unit split).

    ``direction`` is "forward", "backward" or "forecast" (forward keeping no gates).
    """
    tiles = layouts.tile_count(hidden)
    if batch < UNIT_SPLIT_MAX_BATCH:
        min_tiles = UNIT_SPLIT_MIN_TILES["backward" if direction == "backward" else "forward"]
    else:
        min_tiles = {"forecast": FORECAST_UNIT_SPLIT_MIN_TILES,
                     "forward": KEEP_UNIT_SPLIT_MIN_TILES}.get(direction, 1 << 62)
    if (_unit_split_failed or tiles < max(2, min_tiles)
            or batch * steps * 4 * hidden * (features + hidden) < PARALLEL_MIN_WORK):
        return 1
    return min(int(numba.get_num_threads()), tiles)


def _note_unit_split(barrier: np.ndarray) -> bool:
    """True if a unit-split call went through; remembers a failed barrier (see above)."""
    global _unit_split_failed
    if barrier[atomics.FAILED]:
        _unit_split_failed = True
        return False
    return True


#: A stand-in for the per-step outputs a call does not want (the kernels skip an array
#: whose time axis is empty), one per dtype so no call allocates it.
_NOTHING: dict[np.dtype[np.floating], FloatArray] = {
    np.dtype(np.float32): np.empty((0, 0, 0), np.float32),
    np.dtype(np.float64): np.empty((0, 0, 0), np.float64),
}


class _Outputs(NamedTuple):
    """What one forward call wrote (:data:`_NOTHING` for what was not asked). A named tuple:
    a frozen dataclass took 0.45 us more to build, 5 % of a small forward call."""

    final_h: FloatArray  # (B, H)
    final_c: FloatArray  # (B, H)
    seq_h: FloatArray  # (B, T, H)
    seq_c: FloatArray  # (B, T, H)
    gates: FloatArray  # (B, T, 4H)
    input_part: FloatArray  # (B, T, 4H)
    memory_part: FloatArray  # (B, T, 4H)


def _run_forward(
    inputs: FloatArray, h0: FloatArray | None, c0: FloatArray | None, packed: PackedLayer, *,
    sequences_: bool, gates: bool, parts: bool,
) -> _Outputs:
    """One layer forward; h0 and c0 None (both) start from zero memories."""
    dtype = inputs.dtype
    batch, steps, features = inputs.shape
    hidden = packed.hidden
    nothing = _NOTHING[dtype]
    seq_h = seq_c = gate_values = input_part = memory_part = nothing
    # The per-step records can pass malloc's mmap limit: buffers nothing uses any more are
    # handed out again (see lstmlens.memory.reusable).
    memories, sums = (batch, steps, hidden), (batch, steps, 4 * hidden)
    if sequences_:
        seq_h = memory.reusable("forward.short_term_memory", memories, dtype)
        seq_c = memory.reusable("forward.long_term_memory", memories, dtype)
    if gates:
        gate_values = memory.reusable("forward.gates", sums, dtype)
    if parts:
        input_part = memory.reusable("forward.input_part", sums, dtype)
        memory_part = memory.reusable("forward.memory_part", sums, dtype)
    elif batch >= LANES_MIN_BATCH and hidden <= LANES_MAX_HIDDEN:
        return _run_lanes(inputs, h0, c0, packed, seq_h, seq_c, gate_values)
    # Slot t % 2 holds h_{t-1} and c_{t-1}. Zeroed rather than copied into when there is no
    # initial state: at one series of a small layer the copies were a tenth of the call.
    state_h = np.zeros((2, batch, hidden), dtype)
    state_c = np.zeros((2, batch, hidden), dtype)
    if h0 is not None and c0 is not None:
        state_h[0], state_c[0] = h0, c0
    out = _Outputs(state_h[steps % 2], state_c[steps % 2], seq_h, seq_c, gate_values,
                   input_part, memory_part)
    weights, bias = packed.tile_layout
    args = (inputs, weights, bias, state_h, state_c, out.seq_h, out.seq_c, out.gates,
            out.input_part, out.memory_part)
    if parts:  # explanation traces: a few windows, on the calling thread
        sequences.forward_trace(*args)
        return out
    serial, by_rows, by_units = _FORWARD_KERNELS[gates]
    threads = unit_parts(batch, steps, features, hidden, "forward" if gates else "forecast")
    chunks = thread_chunks(batch, steps, features, hidden) if threads == 1 else 1
    if chunks > 1:
        by_rows(chunks, *args)
    elif threads > 1:
        barrier = np.zeros(2, np.int64)
        by_units(threads, *args, barrier)
        if not _note_unit_split(barrier):  # start again from h_0, c_0 on one thread
            state_h[0], state_c[0] = (h0, c0) if h0 is not None else (0, 0)
            serial(*args)
    else:
        serial(*args)
    return out


def _run_lanes(inputs: FloatArray, h0: FloatArray | None, c0: FloatArray | None,
               packed: PackedLayer, seq_h: FloatArray, seq_c: FloatArray,
               gate_values: FloatArray) -> _Outputs:
    """:func:`_run_forward` for a large batch, with :mod:`lstmlens.lanes`: the same outputs."""
    batch, steps, features = inputs.shape
    final_h = np.empty((batch, packed.hidden), inputs.dtype)
    final_c = np.empty_like(final_h)
    if h0 is None or c0 is None:
        h0 = c0 = np.zeros_like(final_h)  # only read
    weights, bias = packed.lane_layout
    chunks = min(thread_chunks(batch, steps, features, packed.hidden), lanes.block_count(batch))
    kernel = lanes.forward_parallel if chunks > 1 else lanes.forward
    kernel(inputs, weights, bias, h0, c0, final_h, final_c, seq_h, seq_c, gate_values)
    nothing = _NOTHING[inputs.dtype]
    return _Outputs(final_h, final_c, seq_h, seq_c, gate_values, nothing, nothing)


#: The forward kernels (one thread, rows over threads, units over threads), by whether the
#: gates are kept for backward.
_FORWARD_KERNELS = {
    False: (sequences.forward, sequences.forward_parallel, sequences.forward_units_parallel),
    True: (sequences.forward_keep, sequences.forward_keep_parallel,
           sequences.forward_keep_units_parallel),
}


def layer_forward(
    inputs: FloatArray,
    initial_short_term_memory: FloatArray,
    initial_long_term_memory: FloatArray,
    weight_ih: FloatArray,
    weight_hh: FloatArray,
    bias_ih: FloatArray,
    bias_hh: FloatArray,
    record_parts: bool,
    *,
    packed: PackedLayer | None = None,
) -> LayerTrace:
    """Run one LSTM layer over whole sequences with the compiled kernels.

    Same contract as :func:`lstmlens.reference.layer_forward`.

    Parameters
    ----------
    inputs : (B, T, I)
        The sequences x_1 .. x_T, float32 or float64 (every other array is cast to it).
    initial_short_term_memory, initial_long_term_memory : (B, H)
        h_0 (short-term memory) and c_0 (long-term memory / cell state).
    weight_ih, weight_hh : (4H, I), (4H, H)
        Weights in PyTorch's layout, gates stacked input_gate (i_t), forget_gate (f_t),
        candidate_memory (g_t), output_gate (o_t).
    bias_ih, bias_hh : (4H,)
        The two biases, summed.
    record_parts : bool
        Also keep ``input_part`` (``x_t @ W_ih.T``, no bias) and ``memory_part``
        (``h_{t-1} @ W_hh.T``) for explanations; nothing extra is computed when False.
    packed : PackedLayer or None
        The same weights already in the kernels' layouts, to skip repacking.

    Returns
    -------
    LayerTrace
    """
    x = np.ascontiguousarray(inputs)
    dtype = x.dtype
    if packed is None:
        packed = PackedLayer(weight_ih, weight_hh, bias_ih, bias_hh, dtype)
    h0 = _as(initial_short_term_memory, dtype)
    c0 = _as(initial_long_term_memory, dtype)
    out = _run_forward(x, h0, c0, packed, sequences_=True, gates=True, parts=record_parts)
    return LayerTrace(
        inputs=x,
        initial_short_term_memory=h0,
        initial_long_term_memory=c0,
        gates=out.gates,
        long_term_memory=out.seq_c,
        short_term_memory=out.seq_h,
        bias=_as(bias_ih + bias_hh, dtype),  # (4H,), summed once as the reference does
        input_part=out.input_part if record_parts else None,
        memory_part=out.memory_part if record_parts else None,
    )


def layer_outputs(
    inputs: FloatArray, initial_short_term_memory: FloatArray | None,
    initial_long_term_memory: FloatArray | None, packed: PackedLayer, *, sequence: bool,
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Run one layer for inference: nothing is kept for backward or explanations.

    Returns h_T and c_T (B, H), and the short-term memory of every step (B, T, H) when
    ``sequence`` is True (the input of the layer above), else None. Initial memories of
    None start from zeros.
    """
    compile_ahead.wait()  # a helper compiling these kernels on a first run (if any)
    x = np.ascontiguousarray(inputs)
    dtype = x.dtype
    if initial_short_term_memory is None or initial_long_term_memory is None:
        h0 = c0 = None
    else:
        h0, c0 = _as(initial_short_term_memory, dtype), _as(initial_long_term_memory, dtype)
    out = _run_forward(x, h0, c0, packed, sequences_=sequence, gates=False, parts=False)
    return out.final_h, out.final_c, out.seq_h if sequence else None


def layer_backward(
    record: LayerTrace,
    weight_ih: FloatArray,
    weight_hh: FloatArray,
    grad_short_term_memory: FloatArray,
    grad_final_long_term_memory: FloatArray,
    *,
    out: tuple[FloatArray, FloatArray, FloatArray] | None = None,
) -> LayerGradients:
    """Backpropagate through time over one layer with the compiled kernels.

    Same contract as :func:`lstmlens.reference.layer_backward`.

    Parameters
    ----------
    record : LayerTrace
        The layer's forward record (weighted sums not needed).
    weight_ih, weight_hh : (4H, I), (4H, H)
        The layer's weights.
    grad_short_term_memory : (B, T, H)
        dL/dh_t (short-term memory) arriving from outside the recurrence at every step.
    grad_final_long_term_memory : (B, H)
        dL/dc_T (long-term memory) from outside.
    out : (grad_weight_ih, grad_weight_hh, grad_bias) or None
        Preallocated C-contiguous arrays to write the parameter gradients into (the network
        passes views of its flat gradient buffer); new arrays when None.

    Returns
    -------
    LayerGradients
    """
    x = record.inputs
    dtype = x.dtype
    batch, steps, features = x.shape
    hidden = record.hidden_size
    units = layouts.UNITS
    tiles = layouts.tile_count(hidden)
    chunks = thread_chunks(batch, steps, features, hidden)
    threads = unit_parts(batch, steps, features, hidden, "backward")
    weight_ih, weight_hh = _as(weight_ih, dtype), _as(weight_hh, dtype)
    # [x_t, h_{t-1}] side by side, zero-padded to whole 4-row gradient tiles.
    depth = -(-(features + hidden) // bptt.ROWS) * bptt.ROWS
    # The temporaries can pass malloc's mmap limit, so they are reused between calls. All
    # three are step-major (see bptt.backward_rows).
    stacked = memory.scratch("backward.stacked", (steps, batch, depth), dtype)
    grad_z = memory.scratch("backward.grad_z", (tiles, steps, batch, 4 * units),
                            dtype)  # dL/dz_t, tile-major
    grad_pairs = memory.scratch("backward.grad_inputs", (steps * batch, features), dtype)
    copies = layouts.copy_parts(hidden)

    def run(kernel: Any, leading: tuple[Any, ...] = (),
            trailing: tuple[Any, ...] = ()) -> tuple[FloatArray, ...]:
        back_h, back_x, partial_weights, partial_bias, grad_h0 = bptt.backward_operands(
            x, _as(record.initial_short_term_memory, dtype), record.short_term_memory,
            weight_ih, weight_hh, chunks, copies == 1, stacked)
        if copies > 1:  # a wide layer: the copies shared out over threads
            layouts.pack_backward_parallel(copies, weight_hh, units, 4 * units, back_h)
            layouts.pack_backward_parallel(copies, weight_ih, units, units, back_x)
        grad_c0 = np.array(grad_final_long_term_memory, dtype=dtype, order="C")  # -> dL/dc_0
        kernel(*leading, record.long_term_memory, _as(record.initial_long_term_memory, dtype),
               record.gates, stacked, back_h, back_x, _as(grad_short_term_memory, dtype),
               grad_z, grad_z.reshape(tiles, 1, steps * batch, 4 * units), grad_h0, grad_c0,
               grad_pairs, partial_weights, partial_bias, *trailing)
        return grad_h0, grad_c0, partial_weights, partial_bias

    if chunks > 1:
        grad_h0, grad_c0, partial_weights, partial_bias = run(bptt.backward_parallel,
                                                              (chunks,))
    elif threads > 1:
        barrier = np.zeros(2, np.int64)
        grad_h0, grad_c0, partial_weights, partial_bias = run(
            bptt.backward_units_parallel, (threads,), (barrier,))
        if not _note_unit_split(barrier):  # again from the start, on one thread
            grad_h0, grad_c0, partial_weights, partial_bias = run(bptt.backward)
    else:
        grad_h0, grad_c0, partial_weights, partial_bias = run(bptt.backward)
    if out is None:
        out = (np.empty((4 * hidden, features), dtype), np.empty((4 * hidden, hidden), dtype),
               np.empty(4 * hidden, dtype))
    grad_w_ih, grad_w_hh, grad_bias = out
    layouts.unpacked_gradients(partial_weights, partial_bias, grad_w_ih, grad_w_hh, grad_bias)
    # (T, B, I) pairs to the (B, T, I) of the contract, in a new array the caller keeps
    grad_inputs = np.ascontiguousarray(grad_pairs.reshape(steps, batch, features)
                                       .transpose(1, 0, 2))
    return LayerGradients(
        grad_inputs=grad_inputs,
        grad_weight_ih=grad_w_ih,
        grad_weight_hh=grad_w_hh,
        grad_bias=grad_bias,
        grad_initial_short_term_memory=grad_h0,
        grad_initial_long_term_memory=grad_c0,
    )


def _as(array: FloatArray, dtype: np.dtype[np.floating]) -> FloatArray:
    return np.ascontiguousarray(array, dtype=dtype)
