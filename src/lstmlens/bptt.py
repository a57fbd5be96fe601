"""Backpropagation through time over whole sequences of one LSTM layer: the compiled loops
behind :func:`lstmlens.kernels.layer_backward` (forward is :mod:`lstmlens.sequences`).

Through time, backwards, each step first turns dL/dh_t into dL/dz_t for every row
(:func:`lstmlens.tiles.gate_gradient_row`), then carries it to dL/dh_{t-1} = dz_t W_hh.
Everything else a training step needs for those rows -- dL/dx and their share of dL/dW --
is done after the loop in the same parallel region, so no multi-threaded BLAS call sits in
between: mixing an OpenMP team with OpenBLAS's own threads on the same cores made each of
them spin-wait for the other (10-100x slower steps). The rows or units are shared out over
threads as :mod:`lstmlens.splits` says.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from lstmlens.activations import KERNEL_OPTIONS, compiled
from lstmlens.atomics import wait_for_all
from lstmlens.blocks import GRADIENT_BLOCK, PRODUCT_TILES, WIDTH, gradient_block, product_block
from lstmlens.cpu import wide_vectors
from lstmlens.layouts import UNITS, pack_backward
from lstmlens.prefetch import prefetch_run
from lstmlens.splits import chunk_rows, row_range_compiled, whole_batch
from lstmlens.tiles import ROWS as ROWS
from lstmlens.tiles import gate_gradient_row, product_tile

#: Columns of a tile: the four gates of :data:`lstmlens.layouts.UNITS` units. Also the
#: width of the 1-row dL/dh_{t-1} product tiles (narrower ones stop vectorising).
COLUMNS = 4 * UNITS


@compiled()
def stack_step_inputs(inputs, h0, seq_h, out):  # type: ignore[no-untyped-def]
    """Write ``out[t, b] = [x_t, h_{t-1}, 0 ...]`` of row ``b``, what each weight of a layer
    multiplied, step-major like dL/dz (:func:`backward_rows`).

    inputs (B, T, I), h0 (B, H), seq_h (B, T, H); out (T, B, K >= I + H), zero past I + H.
    One compiled pass: the four NumPy slice assignments it replaces cost a tenth of a small
    training step.
    """
    wide_vectors()
    batch, steps, features = inputs.shape
    hidden = h0.shape[1]
    depth = out.shape[2]
    for t in range(steps):
        for b in range(batch):
            for k in range(features):
                out[t, b, k] = inputs[b, t, k]
            for k in range(hidden):
                out[t, b, features + k] = h0[b, k] if t == 0 else seq_h[b, t - 1, k]
            for k in range(features + hidden, depth):
                out[t, b, k] = 0


@compiled()
def backward_operands(inputs, h0, seq_h, weight_ih, weight_hh, sets, pack, stacked):  # type: ignore[no-untyped-def]
    """What backward through time reads and writes besides the forward record, made in one
    compiled call: set apart, the copies, allocations and zeroing were most of a small
    layer's backward pass (five compiled calls and seven NumPy arrays).

    Fills stacked (T, B, K) with [x_t, h_{t-1}, 0 ...] (:func:`stack_step_inputs`) and
    returns W_hh and W_ih in the layouts of :func:`lstmlens.layouts.pack_backward` (copied
    only if ``pack``: the caller shares the copies of wide layers out over threads), and
    zeroed sums for the kernels: partial_weights (sets, tiles, K, 4U), partial_bias
    (sets, tiles, 4U) and grad_h (B, H). inputs (B, T, I), h0 (B, H), seq_h (B, T, H);
    weight_ih (4H, I) and weight_hh (4H, H) in PyTorch's layout.
    """
    wide_vectors()
    features, hidden = weight_ih.shape[1], weight_hh.shape[1]
    tiles = -(-hidden // UNITS)
    dtype = stacked.dtype
    back_h = np.empty((-(-hidden // COLUMNS), tiles * COLUMNS, COLUMNS), dtype)
    back_x = np.empty((-(-features // UNITS), tiles * COLUMNS, UNITS), dtype)
    if pack:
        pack_backward(weight_hh, UNITS, COLUMNS, back_h, 0, 1)
        pack_backward(weight_ih, UNITS, UNITS, back_x, 0, 1)
    stack_step_inputs(inputs, h0, seq_h, stacked)
    partial_weights = np.zeros((sets, tiles, stacked.shape[2], COLUMNS), dtype)
    partial_bias = np.zeros((sets, tiles, COLUMNS), dtype)
    grad_h = np.zeros((h0.shape[0], hidden), dtype)
    return back_h, back_x, partial_weights, partial_bias, grad_h


@numba.njit(inline="always", **KERNEL_OPTIONS)
def prefetch_step(b, t, first_tile, last_tile, gates, seq_c, grad_h_outside, grad_z):  # type: ignore[no-untyped-def]
    """Ask for the cache lines that backward through step ``t`` of batch row ``b`` reads (its
    gates, c_t and dL/dh_t from outside) and writes (dL/dz_t of the tiles ``first_tile ..
    last_tile - 1``), a step ahead of them (see :mod:`lstmlens.prefetch`)."""
    steps, hidden = seq_c.shape[1], seq_c.shape[2]
    prefetch_run(gates, (b * steps + t) * 4 * hidden, 4 * hidden, False)
    prefetch_run(seq_c, (b * steps + t) * hidden, hidden, False)
    prefetch_run(grad_h_outside, (b * steps + t) * hidden, hidden, False)
    batch, columns = grad_z.shape[2], grad_z.shape[3]
    for tile in range(first_tile, last_tile):
        prefetch_run(grad_z, ((tile * steps + t) * batch + b) * columns, columns, True)


@compiled()
def product_rows(first, full, block, t, grad_z, weight_hh, grad_h):  # type: ignore[no-untyped-def]
    """Column block ``block`` of dL/dh_{t-1} = dz_t W_hh for the rows ``first .. full - 1``
    (a multiple of :data:`ROWS` of them), in :func:`lstmlens.blocks.product_block` calls:
    a few tiles of W_hh at a time, for one :data:`lstmlens.blocks.WIDTH`-column slice, are
    reused by every row group while they are in the L1 cache."""
    wide_vectors()
    tiles, columns = grad_z.shape[0], grad_z.shape[3]
    width = min(columns, grad_h.shape[1] - block * columns)  # the block's columns inside H
    for j0 in range(0, tiles, PRODUCT_TILES):
        j1 = min(tiles, j0 + PRODUCT_TILES)
        for c0 in range(0, width, WIDTH):
            for row in range(first, full, ROWS):
                product_block(row, block, c0, t, j0, j1, grad_z, weight_hh, grad_h)


@compiled()
def input_gradients(start, stop, dz_pairs, weight_ih, grad_inputs):  # type: ignore[no-untyped-def]
    """dL/dx_t = dz_t W_ih for the (step, row) pairs ``start .. stop - 1``: the input needs no
    recurrence, so pairs of different steps share 4-row tiles (arrays as
    :func:`backward_rows`)."""
    wide_vectors()
    full = start + max(0, stop - start) // ROWS * ROWS
    for block in range(weight_ih.shape[0]):
        for pair in range(start, full, ROWS):
            product_tile(ROWS, UNITS, pair, block, 0, dz_pairs, weight_ih, grad_inputs)
        for pair in range(full, stop):
            product_tile(1, UNITS, pair, block, 0, dz_pairs, weight_ih, grad_inputs)


@compiled()
def parameter_gradients(first, last, first_tile, last_tile, stacked, grad_z, partial_weights,  # type: ignore[no-untyped-def]
                        partial_bias):
    """Add the rows ``first .. last - 1`` of every step to dL/dW = sum [x_t, h_{t-1}] (x) dz_t
    and dL/db = sum dz_t for the tiles ``first_tile .. last_tile - 1`` (arrays as
    :func:`backward_rows`), in cache blocks of about :data:`lstmlens.blocks.GRADIENT_BLOCK`
    (step, row) pairs: a few steps of a small chunk, or part of one step's rows."""
    wide_vectors()
    steps = grad_z.shape[1]
    depth, columns = partial_weights.shape[1], partial_weights.shape[2]
    rows = max(1, min(last - first, GRADIENT_BLOCK))
    span = max(1, GRADIENT_BLOCK // rows)  # steps per block
    for b0 in range(first, last, rows):
        b1 = min(last, b0 + rows)
        for t0 in range(0, steps, span):
            t1 = min(steps, t0 + span)
            for tile in range(first_tile, last_tile):
                # Columns outside: one WIDTH-column slice of the block's dz (8 KiB at 128
                # pairs) stays in L1 while every input row reuses it. Rows outside swept all
                # 32 KiB of the tile's dz per row group, past a 32 KiB L1: 4-7 % slower at
                # 256 rows on two threads of a Zen 1 VM (64 and 256 units), the same at 32.
                for c0 in range(0, columns, WIDTH):
                    for k0 in range(0, depth, ROWS):
                        gradient_block(t0, t1, b0, b1, k0, c0, tile, stacked, grad_z,
                                       partial_weights)
                for t in range(t0, t1):
                    for b in range(b0, b1):
                        for c in range(columns):
                            partial_bias[tile, c] += grad_z[tile, t, b, c]


@compiled()
def backward_rows(first, last, part, parts, seq_c, c0, gates, stacked, weight_hh, weight_ih,  # type: ignore[no-untyped-def]
                  grad_h_outside, grad_z, dz_pairs, grad_h, grad_c, grad_inputs, partial_weights,
                  partial_bias, barrier):
    """Backpropagation through time for batch rows ``first .. last - 1``, for part ``part`` of
    ``parts`` of the units.

    seq_c (B, T, H), c0 (B, H), gates (B, T, 4H) are the forward record and stacked
    (T, B, K) holds [x_t, h_{t-1}, 0 ...] per (step, row) (K = I + H rounded up to a
    multiple of :data:`ROWS`); weight_hh (., tiles * 4U, 4U) and weight_ih (., tiles * 4U, U)
    are W_hh and W_ih as :func:`lstmlens.layouts.pack_backward` lays them out; grad_h_outside
    (B, T, H) is dL/dh_t from outside the recurrence. Writes grad_z (tiles, T, B, 4U),
    dL/dz_t tile-major and step-major, which dz_pairs (tiles, 1, T * B, 4U) must view with
    the (step, row) pairs as one axis (made by the caller: a reshape inside compiled code
    measured 4x slower to read), and grad_inputs (T * B, I), dL/dx_t in the same pair
    order; adds these rows' dL/dW and dL/db to partial_weights (tiles, K, 4U) and
    partial_bias (tiles, 4U). grad_h (B, H) must be zero on entry and holds dL/dh_0 on exit;
    grad_c (B, H) holds dL/dc_T on entry and dL/dc_0 on exit.

    Step-major dL/dz keeps the rows of one step side by side: the product over a step's
    rows reads one run of memory per tile. Row-major, each row of a step was a few cache
    lines on a page of its own, and at 128 rows per thread the product ran 1.3-1.45x
    slower (two threads of a Zen 1 VM, 128-256 units, 256 rows, 24 and 96 steps).

    With one part, the rows are a chunk of the batch that runs alone. With more, the threads
    share out the units instead (for a batch too small to split): every step, this part's
    tiles of dL/dz_t for the rows, a meeting at ``barrier`` (int64 [ARRIVED, FAILED], see
    :mod:`lstmlens.atomics`), its column blocks of dL/dh_{t-1} = dz_t W_hh, a meeting; then
    its share of the (step, row) pairs of dL/dx and its tiles of dL/dW and dL/db. Returns
    early if a meeting fails.
    """
    wide_vectors()
    tiles, steps, batch = grad_z.shape[:3]
    first_tile, last_tile = row_range_compiled(part, parts, tiles)
    first_block, last_block = row_range_compiled(part, parts, weight_hh.shape[0])
    full = first + max(0, last - first) // ROWS * ROWS
    meeting = 0
    # Through time, backwards: dL/dz_t of every row first, then dL/dh_{t-1} = dz_t W_hh.
    for t in range(steps - 1, -1, -1):
        for b in range(first, last):
            if t > 0:
                prefetch_step(b, t - 1, first_tile, last_tile, gates, seq_c, grad_h_outside,
                              grad_z)
            gate_gradient_row(UNITS, t, b, first_tile, last_tile, gates, seq_c, c0, grad_h,
                              grad_h_outside, grad_c, grad_z)
        if parts > 1 and not wait_for_all(barrier, parts, meeting):  # dz_t complete
            return
        for block in range(first_block, last_block):
            product_rows(first, full, block, t, grad_z, weight_hh, grad_h)
            for row in range(full, last):
                product_tile(1, COLUMNS, row, block, t, grad_z, weight_hh, grad_h)
        if parts > 1 and not wait_for_all(barrier, parts, meeting + 1):  # dL/dh_{t-1} done
            return
        meeting += 2
    # dL/dx_t = dz_t W_ih: for the whole batch this part's share of the (step, row) pairs
    # at once, for a chunk of rows a run of pairs per step.
    if first == 0 and last == batch:
        share_first, share_last = row_range_compiled(part, parts, steps * batch)
        input_gradients(share_first, share_last, dz_pairs, weight_ih, grad_inputs)
    else:
        for t in range(steps):
            input_gradients(t * batch + first, t * batch + last, dz_pairs, weight_ih,
                            grad_inputs)
    # dL/dW = sum [x_t, h_{t-1}] (x) dz_t and dL/db = sum dz_t over the rows' pairs, for this
    # part's tiles.
    parameter_gradients(first, last, first_tile, last_tile, stacked, grad_z, partial_weights,
                        partial_bias)


@compiled()
def backward(seq_c, c0, gates, stacked, weight_hh, weight_ih, grad_h_outside, grad_z, dz_pairs,  # type: ignore[no-untyped-def]
             grad_h, grad_c, grad_inputs, partial_weights, partial_bias):
    """:func:`backward_rows` over every row on the calling thread (one chunk)."""
    wide_vectors()
    first, last, part, parts, barrier = whole_batch(gates.shape[0])
    backward_rows(first, last, part, parts, seq_c, c0, gates, stacked, weight_hh, weight_ih,
                  grad_h_outside, grad_z, dz_pairs, grad_h, grad_c, grad_inputs,
                  partial_weights[0], partial_bias[0], barrier)


@compiled(parallel=True)
def backward_parallel(chunks, seq_c, c0, gates, stacked, weight_hh, weight_ih, grad_h_outside,  # type: ignore[no-untyped-def]
                      grad_z, dz_pairs, grad_h, grad_c, grad_inputs, partial_weights,
                      partial_bias):
    """:func:`backward` with the rows split into ``chunks`` blocks run on Numba's threads;
    chunk ``k`` adds its share of the parameter gradients to partial_*[k]."""
    wide_vectors()
    _, _, part, parts, barrier = whole_batch(gates.shape[0])
    for chunk in prange(chunks):
        first, last = chunk_rows(chunk, chunks, gates.shape[0])
        backward_rows(first, last, part, parts, seq_c, c0, gates, stacked, weight_hh, weight_ih,
                      grad_h_outside, grad_z, dz_pairs, grad_h, grad_c, grad_inputs,
                      partial_weights[chunk], partial_bias[chunk], barrier)


@compiled(parallel=True)
def backward_units_parallel(parts, seq_c, c0, gates, stacked, weight_hh, weight_ih, grad_h_outside,  # type: ignore[no-untyped-def]
                            grad_z, dz_pairs, grad_h, grad_c, grad_inputs, partial_weights,
                            partial_bias, barrier):
    """:func:`backward` with the units shared out over ``parts`` threads, one set of partial
    gradients (see :func:`backward_rows`); the caller reruns the work with :func:`backward`
    if ``barrier[FAILED]`` is set afterwards."""
    wide_vectors()
    first, last = chunk_rows(0, 1, gates.shape[0])
    for part in prange(parts):
        # np.int64: prange's index is unsigned (see lstmlens.splits.chunk_rows)
        backward_rows(first, last, np.int64(part), np.int64(parts), seq_c, c0, gates, stacked,
                      weight_hh, weight_ih, grad_h_outside, grad_z, dz_pairs, grad_h, grad_c,
                      grad_inputs, partial_weights[0], partial_bias[0], barrier)
