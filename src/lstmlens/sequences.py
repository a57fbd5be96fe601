"""Whole sequences through one LSTM layer: the compiled loops behind :mod:`lstmlens.kernels`.

Every step of every batch row runs inside one compiled call, built from the register tiles
of :mod:`lstmlens.tiles`; no Python, no BLAS and no thread start-up happens per step.

Batch rows never interact, so a call can split them into ``chunks`` contiguous blocks that
run the whole time loop on their own (``*_parallel``, Numba's ``prange``): threads meet once
per call, never per step. Everything else a training step needs for those rows -- dL/dx and
the chunk's share of dL/dW -- is done in the same parallel region, so no multi-threaded BLAS
call sits in between: mixing an OpenMP team with OpenBLAS's own threads on the same cores
made each of them spin-wait for the other (10-100x slower steps).
"""

from __future__ import annotations

import numba
from numba import prange

from lstmlens.activations import compiled
from lstmlens.layouts import UNITS
from lstmlens.tiles import ROWS as ROWS
from lstmlens.tiles import forward_tile, gate_gradient_row, gradient_tile, product_tile

#: Columns of a tile: the four gates of :data:`lstmlens.layouts.UNITS` units. Also the
#: width of the dL/dh_{t-1} product tiles (narrower ones stop vectorising for 1-row tiles).
COLUMNS = 4 * UNITS
#: (b, t) pairs per cache block of the weight-gradient sums: the dz slice of one column tile
#: over a block (64 columns x 256 rows x 4 bytes) stays in L2 while every input row reuses
#: it (64 to 1024 measured within noise of each other).
GRADIENT_BLOCK = 256


def _row_range(chunk: int, chunks: int, batch: int) -> tuple[int, int]:
    """Rows of one chunk: contiguous and, when there are enough, a multiple of :data:`ROWS`
    long (except the last chunk), so that only one chunk has rows left over for 1-row tiles."""
    size = -(-batch // chunks)
    if size > ROWS:
        size = -(-size // ROWS) * ROWS
    first = min(batch, chunk * size)
    return first, min(batch, first + size)


_row_range_compiled = compiled()(_row_range)


@compiled()
def _chunk_rows(chunk, chunks, batch):  # type: ignore[no-untyped-def]
    # prange's index is unsigned: cast it, or every caller is compiled twice
    return _row_range_compiled(int(chunk), int(chunks), int(batch))


# ---------------------------------------------------------------------------- forward
@compiled()
def forward_rows(trace, first, last, inputs, weights, bias, state_h, state_c, seq_h, seq_c,  # type: ignore[no-untyped-def]
                 seq_gates, input_part, memory_part):
    """Forward through all steps of batch rows ``first .. last - 1``.

    trace : 0 or 1, compiled as a constant: 1 also writes input_part and memory_part.
    inputs (B, T, I); weights (tiles, I + H, 4U) and bias (tiles, 4U) in tile layout;
    state_h, state_c (2, B, H) with h_0, c_0 in slot 0 on entry and h_T, c_T in slot T % 2
    on exit; seq_h, seq_c (B, T, H), seq_gates, input_part, memory_part (B, T, 4H) are
    written unless their time axis is empty.
    """
    numba.literally(trace)
    full = first + max(0, last - first) // ROWS * ROWS
    # Time outside, tiles next, rows inside: one tile of weights (I + H rows of 4U) is
    # reused by every row of the step while it is still in cache.
    for t in range(inputs.shape[1]):
        for tile in range(weights.shape[0]):
            for row in range(first, full, ROWS):
                forward_tile(ROWS, UNITS, trace, t, row, tile, inputs, weights, bias, state_h,
                             state_c, seq_h, seq_c, seq_gates, input_part, memory_part)
            for row in range(full, last):
                forward_tile(1, UNITS, trace, t, row, tile, inputs, weights, bias, state_h,
                             state_c, seq_h, seq_c, seq_gates, input_part, memory_part)


@compiled()
def forward(inputs, weights, bias, state_h, state_c, seq_h, seq_c, seq_gates, input_part,  # type: ignore[no-untyped-def]
            memory_part):
    """:func:`forward_rows` over every row, on the calling thread."""
    first, last = _chunk_rows(0, 1, inputs.shape[0])  # not constants: one compiled version
    forward_rows(0, first, last, inputs, weights, bias, state_h, state_c, seq_h, seq_c,
                 seq_gates, input_part, memory_part)


@compiled()
def forward_trace(inputs, weights, bias, state_h, state_c, seq_h, seq_c, seq_gates,  # type: ignore[no-untyped-def]
                  input_part, memory_part):
    """:func:`forward` that also records input_part and memory_part (explanations)."""
    first, last = _chunk_rows(0, 1, inputs.shape[0])
    forward_rows(1, first, last, inputs, weights, bias, state_h, state_c, seq_h, seq_c,
                 seq_gates, input_part, memory_part)


@compiled(parallel=True)
def forward_parallel(chunks, inputs, weights, bias, state_h, state_c, seq_h, seq_c, seq_gates,  # type: ignore[no-untyped-def]
                     input_part, memory_part):
    """:func:`forward` with the rows split into ``chunks`` blocks run on Numba's threads."""
    for chunk in prange(chunks):
        first, last = _chunk_rows(chunk, chunks, inputs.shape[0])
        forward_rows(0, first, last, inputs, weights, bias, state_h, state_c, seq_h, seq_c,
                     seq_gates, input_part, memory_part)


# ---------------------------------------------------------------------------- backward
@compiled()
def backward_rows(first, last, seq_c, c0, gates, stacked, back_h, back_x, grad_h_outside,  # type: ignore[no-untyped-def]
                  grad_z, grad_h, grad_c, dz_rows, dx_rows, partial_weights, partial_bias):
    """Backpropagation through time for batch rows ``first .. last - 1``.

    seq_c (B, T, H), c0 (B, H), gates (B, T, 4H) are the forward record and stacked
    (B, T, K) holds [x_t, h_{t-1}, 0 ...] (K = I + H rounded up to a multiple of
    :data:`ROWS`); back_h (., 4 * tiles * U, 4U) and back_x (., 4 * tiles * U, U) are the
    transposed weights (:func:`lstmlens.layouts.pack_backward`); grad_h_outside (B, T, H)
    is dL/dh_t from outside the recurrence. Writes grad_z (B, T, 4 * tiles * U), dL/dz_t in
    tile layout, and through its view dz_rows (B * T, 4 * tiles * U) dx_rows (B * T, I),
    dL/dx_t. Adds these rows' dL/dW and dL/db to partial_weights (tiles, K, 4U) and
    partial_bias (tiles * 4U). grad_h (B, H) must be zero on entry and
    holds dL/dh_0 on exit; grad_c (B, H) holds dL/dc_T on entry and dL/dc_0 on exit.
    """
    steps = gates.shape[1]
    full = first + max(0, last - first) // ROWS * ROWS
    # Through time, backwards: dL/dz_t of every row first, then dL/dh_{t-1} = dz_t W_hh.
    for t in range(steps - 1, -1, -1):
        for b in range(first, last):
            gate_gradient_row(UNITS, t, b, gates, seq_c, c0, grad_h, grad_h_outside, grad_c,
                              grad_z)
        dz_t = grad_z[:, t]  # (B, 4 * tiles * U)
        for block in range(back_h.shape[0]):
            for row in range(first, full, ROWS):
                product_tile(ROWS, COLUMNS, row, block, dz_t, back_h, grad_h)
            for row in range(full, last):
                product_tile(1, COLUMNS, row, block, dz_t, back_h, grad_h)
    # dL/dx_t = dz_t W_ih for every (row, step) at once: the input needs no recurrence.
    start, stop = first * steps, last * steps
    full_rows = start + (stop - start) // ROWS * ROWS
    for block in range(back_x.shape[0]):
        for row in range(start, full_rows, ROWS):
            product_tile(ROWS, UNITS, row, block, dz_rows, back_x, dx_rows)
        for row in range(full_rows, stop):
            product_tile(1, UNITS, row, block, dz_rows, back_x, dx_rows)
    # dL/dW = sum_{b,t} [x_t, h_{t-1}] (x) dz_t and dL/db = sum_{b,t} dz_t.
    out, bias_out = partial_weights, partial_bias
    block_rows = max(1, GRADIENT_BLOCK // steps)
    for b0 in range(first, last, block_rows):
        b1 = min(last, b0 + block_rows)
        for tile in range(out.shape[0]):
            for k in range(0, out.shape[1], ROWS):
                gradient_tile(ROWS, COLUMNS, b0, b1, stacked, k, grad_z, tile, out)
        for row in range(b0 * steps, b1 * steps):
            dz = dz_rows[row]
            for c in range(bias_out.shape[0]):
                bias_out[c] += dz[c]


@compiled()
def backward(seq_c, c0, gates, stacked, back_h, back_x, grad_h_outside, grad_z, grad_h,  # type: ignore[no-untyped-def]
             grad_c, dz_rows, dx_rows, partial_weights, partial_bias):
    """:func:`backward_rows` over every row on the calling thread (one chunk)."""
    first, last = _chunk_rows(0, 1, gates.shape[0])
    backward_rows(first, last, seq_c, c0, gates, stacked, back_h, back_x, grad_h_outside,
                  grad_z, grad_h, grad_c, dz_rows, dx_rows, partial_weights[0], partial_bias[0])


@compiled(parallel=True)
def backward_parallel(chunks, seq_c, c0, gates, stacked, back_h, back_x, grad_h_outside,  # type: ignore[no-untyped-def]
                      grad_z, grad_h, grad_c, dz_rows, dx_rows, partial_weights, partial_bias):
    """:func:`backward` with the rows split into ``chunks`` blocks run on Numba's threads;
    chunk ``k`` adds its share of the parameter gradients to partial_*[k]."""
    for chunk in prange(chunks):
        first, last = _chunk_rows(chunk, chunks, gates.shape[0])
        backward_rows(first, last, seq_c, c0, gates, stacked, back_h, back_x, grad_h_outside,
                      grad_z, grad_h, grad_c, dz_rows, dx_rows, partial_weights[chunk],
                      partial_bias[chunk])
