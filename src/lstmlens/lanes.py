"""Forward through whole sequences with the batch in the vector lanes, for batches of many rows.

The register tiles of :mod:`lstmlens.tiles` put the gate columns of 16 units in the vector
lanes and a few batch rows in registers. That fits one series or a handful, but a layer of
fewer than 16 units is padding in part, and the gates, the memory update and the stores run
on one row at a time. With many rows it pays to turn the layout round: :data:`LANES` batch
rows side by side fill the vector lanes, every weight is one broadcast scalar, and every
value of a step -- the weighted sums, the gates i, f, g, o, the new long-term memory c_t and
short-term memory h_t -- is computed for :data:`LANES` rows in one vector operation::

    for k in range(I + H):           # x_t, then h_{t-1}
        for lane in range(LANES):    # batch rows, contiguous: the vectorised loop
            value = x[k, lane]
            for g in range(GATE_ROWS):   # a few rows of z_t share each loaded value
                acc[g, lane] += weights[group, k, g] * value

Blocks of :data:`LANES` rows never interact, so each runs its whole time loop alone (on its
own thread in :func:`forward_parallel`), and the inputs, weights and memories of a block stay
in cache from step to step. A block copies its rows of x into lane-major order once, at the
start; a batch that is not a multiple of :data:`LANES` is padded with rows of zeros that are
never stored.

The sums are formed in the same order as the tiles' (input part, then short-term memory part,
then ``(input part + memory part) + bias``), with the same activations, so the results agree
with :mod:`lstmlens.sequences` to rounding (bit for bit where the compiler fuses the same
multiply-adds).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from lstmlens.activations import compiled, percent, squash
from lstmlens.tiles import stack_like, unsigned

#: Batch rows per block, one per vector lane: two AVX2 registers of float32 per row of z_t
#: (with AVX-512 the lanes run only for layers of at most 8 units, see
#: :data:`lstmlens.kernels.LANES_MAX_HIDDEN`, so they keep LLVM's default vector width). 32
#: measured no faster on one thread and left a batch of 32 one block, nothing to share out
#: over two threads.
LANES = 16
#: Rows of z_t (gate pre-activations) summed together: with LANES, and the input part kept
#: apart, they make 128 running sums, which stay in registers; more measured slower (spills).
GATE_ROWS = 4
_SUMS = 64  # GATE_ROWS * LANES, spelled out: stack buffers need an integer literal


def lane_weights(weight_ih: np.ndarray, weight_hh: np.ndarray, bias_ih: np.ndarray,
                 bias_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The weights as the lane kernels read them, from PyTorch's layout (all C-contiguous,
    one dtype): (4H / GATE_ROWS, I + H, GATE_ROWS), ``[W_ih | W_hh]`` transposed (gate rows
    in PyTorch's order) and cut into groups of :data:`GATE_ROWS` gate rows, each group's
    weights contiguous for every input feature and short-term memory unit in turn; and the
    summed bias b_ih + b_hh (4H,).

    The groups are what :func:`_weighted_sums` reads as one stream. Rows of the plain
    (I + H, 4H) matrix are 4H floats apart, 4 KiB at 256 units: every load fell in the same
    L1 cache set (measured: forward 1.5x faster in groups at 256 units, 1.1x at 128)."""
    rows, features = weight_ih.shape
    weights = np.empty((rows // GATE_ROWS, features + weight_hh.shape[1], GATE_ROWS),
                       weight_ih.dtype)
    bias = np.empty(rows, weight_ih.dtype)
    _pack_lanes(weight_ih, weight_hh, bias_ih, bias_hh, weights, bias)
    return weights, bias


@compiled()
def _pack_lanes(weight_ih, weight_hh, bias_ih, bias_hh, weights, bias):  # type: ignore[no-untyped-def]
    """Fill the arrays of :func:`lane_weights` (one compiled loop: in NumPy's reshapes and
    transposes the copy took 27 us of a 500 us training step at 8 units and 32 rows)."""
    features, hidden = weight_ih.shape[1], weight_hh.shape[1]
    for row in range(weight_ih.shape[0]):
        group, g = row // GATE_ROWS, row % GATE_ROWS
        for k in range(features):
            weights[group, k, g] = weight_ih[row, k]
        for k in range(hidden):
            weights[group, features + k, g] = weight_hh[row, k]
        bias[row] = bias_ih[row] + bias_hh[row]  # as the tile layout sums it: the same bits


def block_count(batch: int) -> int:
    """The number of :data:`LANES`-row blocks covering ``batch`` rows."""
    return -(-batch // LANES)


@compiled()
def _forward_block(block, inputs, weights, bias, h0, c0, final_h, final_c, seq_h, seq_c,  # type: ignore[no-untyped-def]
                   seq_gates):
    """All steps of the batch rows ``block * LANES ..`` (at most :data:`LANES` of them).

    inputs (B, T, I); weights (4H / GATE_ROWS, I + H, GATE_ROWS) and bias (4H,) from
    :func:`lane_weights`; h0, c0 (B, H) h_0 and c_0. Writes final_h, final_c (B, H) h_T and
    c_T, and, each only when its time axis is not empty, seq_h, seq_c (B, T, H) and
    seq_gates (B, T, 4H), the gates i, f, g, o in PyTorch's order.
    """
    batch, steps, features = inputs.shape
    hidden = h0.shape[1]
    rows = 4 * hidden
    first = block * LANES
    count = min(LANES, batch - first)
    dtype = inputs.dtype
    # Lane-major copies of this block's inputs and memories; padding lanes stay zero.
    x = np.zeros((steps, features, LANES), dtype)
    for lane in range(count):
        for t in range(steps):
            for k in range(features):
                x[t, k, lane] = inputs[first + lane, t, k]
    h = np.zeros((hidden, LANES), dtype)  # h_{t-1}, then h_t once every z_t is summed
    c = np.zeros((hidden, LANES), dtype)
    for lane in range(count):
        for j in range(hidden):
            h[j, lane] = h0[first + lane, j]
            c[j, lane] = c0[first + lane, j]
    z = np.empty((rows, LANES), dtype)  # z_t, then the gates in place
    _steps(first, count, x, weights, bias, h, c, z, seq_h, seq_c, seq_gates)
    for lane in range(count):
        for j in range(hidden):
            final_h[first + lane, j] = h[j, lane]
            final_c[first + lane, j] = c[j, lane]


@compiled()
def _steps(first, count, x, weights, bias, h, c, z, seq_h, seq_c, seq_gates):  # type: ignore[no-untyped-def]
    """The time loop of one block, on lane-major x (T, I, LANES), h and c (H, LANES) and
    z (4H, LANES). A function of its own, given its buffers: allocated in the same function,
    they made LLVM compile the sums of :func:`_weighted_sums` 2x slower."""
    hidden = h.shape[0]
    rows = 4 * hidden
    for t in range(x.shape[0]):
        for row in range(0, rows, GATE_ROWS):
            _weighted_sums(row, t, x, h, weights, bias, z)
        for j in range(hidden):
            for lane_ in range(LANES):
                lane = unsigned(lane_)
                input_gate = percent(z[j, lane])  # i_t: % of the potential memory to remember
                forget_gate = percent(z[hidden + j, lane])  # f_t: % of the long-term memory kept
                candidate_memory = squash(z[2 * hidden + j, lane])  # g_t: potential memory
                output_gate = percent(z[3 * hidden + j, lane])  # o_t: % of the memory let out
                long_term = forget_gate * c[j, lane] + input_gate * candidate_memory
                c[j, lane] = long_term  # c_t = f_t * c_{t-1} + i_t * g_t
                h[j, lane] = output_gate * squash(long_term)  # h_t = o_t * tanh(c_t)
                z[j, lane] = input_gate
                z[hidden + j, lane] = forget_gate
                z[2 * hidden + j, lane] = candidate_memory
                z[3 * hidden + j, lane] = output_gate
        _store_step(first, count, t, h, c, z, seq_h, seq_c, seq_gates)


@numba.njit(inline="always", nogil=True, error_model="numpy", fastmath={"contract"})
def _weighted_sums(row, t, x, h, weights, bias, z):  # type: ignore[no-untyped-def]
    """z_t of gate rows ``row .. row + GATE_ROWS - 1`` for every lane of the block."""
    features = x.shape[1]
    hidden = h.shape[0]
    group = row // GATE_ROWS
    # The two parts in sums of their own: summing the input part into the memory part's
    # registers and moving it out before W_hh made LLVM spill the sums and copy them back
    # lane by lane. Apart, on one thread of a Zen 4 VM, 32 series (two blocks) and 24 steps
    # took 42 instead of 54 us at 8 units, 197 instead of 214 at 32 and 474 instead of 573
    # at 64; the same numbers to the bit.
    input_sums = numba.carray(stack_like(_SUMS, z), (GATE_ROWS, LANES))
    memory_sums = numba.carray(stack_like(_SUMS, z), (GATE_ROWS, LANES))
    for g in range(GATE_ROWS):
        for lane in range(LANES):
            input_sums[g, lane] = 0
            memory_sums[g, lane] = 0
    # Unsigned indices throughout the sums (see lstmlens.tiles.unsigned for why).
    for k in range(features):  # W_ih x_t: the input part
        for lane in range(LANES):
            value = x[unsigned(t), unsigned(k), unsigned(lane)]
            for g in range(GATE_ROWS):
                input_sums[g, lane] += weights[unsigned(group), unsigned(k), unsigned(g)] * value
    for k in range(hidden):  # W_hh h_{t-1}: the short-term memory part
        for lane in range(LANES):
            value = h[unsigned(k), unsigned(lane)]
            for g in range(GATE_ROWS):
                memory_sums[g, lane] += (weights[unsigned(group), unsigned(features + k),
                                                 unsigned(g)] * value)
    for g in range(GATE_ROWS):  # same order as the tiles: (input + memory) + bias
        for lane in range(LANES):
            z[row + g, unsigned(lane)] = ((input_sums[g, lane] + memory_sums[g, lane])
                                          + bias[row + g])


@numba.njit(inline="always", nogil=True, error_model="numpy")
def _store_step(first, count, t, h, c, gates, seq_h, seq_c, seq_gates):  # type: ignore[no-untyped-def]
    """Copy step ``t`` of the block's real rows into the row-major outputs that want it."""
    hidden = h.shape[0]
    if seq_h.shape[1] > 0:
        for lane in range(count):
            for j in range(hidden):
                seq_h[first + lane, t, j] = h[j, lane]
                seq_c[first + lane, t, j] = c[j, lane]
    if seq_gates.shape[1] > 0:
        for lane in range(count):
            for r in range(4 * hidden):
                seq_gates[first + lane, t, r] = gates[r, lane]


@compiled()
def forward(inputs, weights, bias, h0, c0, final_h, final_c, seq_h, seq_c, seq_gates):  # type: ignore[no-untyped-def]
    """:func:`_forward_block` for every block, one after another on the calling thread."""
    for block in range((inputs.shape[0] + LANES - 1) // LANES):
        _forward_block(block, inputs, weights, bias, h0, c0, final_h, final_c, seq_h, seq_c,
                       seq_gates)


@compiled(parallel=True)
def forward_parallel(inputs, weights, bias, h0, c0, final_h, final_c, seq_h, seq_c,  # type: ignore[no-untyped-def]
                     seq_gates):
    """:func:`forward` with the blocks shared out over Numba's threads."""
    for block in prange((inputs.shape[0] + LANES - 1) // LANES):
        # np.int64: prange's index is unsigned (see lstmlens.splits.chunk_rows)
        _forward_block(np.int64(block), inputs, weights, bias, h0, c0, final_h, final_c,
                       seq_h, seq_c, seq_gates)
