"""Whole sequences forward through one LSTM layer: the compiled loops behind
:mod:`lstmlens.kernels` (backward through time is :mod:`lstmlens.bptt`).

Every step of every batch row runs inside one compiled call, built from the register tiles
of :mod:`lstmlens.tiles`; no Python, no BLAS and no thread start-up happens per step. The
``*_parallel`` passes split the rows into chunks, the ``*_units_parallel`` ones the tiles of
units (see :mod:`lstmlens.splits`).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from lstmlens.activations import compiled
from lstmlens.atomics import wait_for_all
from lstmlens.cpu import wide_vectors
from lstmlens.layouts import UNITS
from lstmlens.splits import chunk_rows, row_range_compiled, whole_batch
from lstmlens.streaming_stores import store_fence
from lstmlens.tiles import ROWS as ROWS
from lstmlens.tiles import alternate, forward_tile

#: What a forward pass keeps besides the memories (see :func:`lstmlens.tiles.forward_tile`).
FORECAST, KEEP, TRACE = 0, 1, 2

#: Bytes of a tile's weights that one stage of the forward sums reads (see
#: :func:`lstmlens.tiles.forward_tile`): a tile's I + H rows of 4U weights, 67 KiB in
#: float32 at 256 units, stream from L2 for every group of rows, while a 32 KiB slice stays
#: in L1. Two stages at 256 units measured 1.2x faster than one in a tile loop alone (one
#: thread of a Sapphire Rapids VM, 128 rows), and the whole forward pass on two threads
#: 1.08x at 256 rows (16.0 against 17.3 ms, the mean of two interleaved runs each), within
#: the noise at 32 rows; 16 KiB stages, two at 128 units, measured slower there.
STAGE_BYTES = 32 * 1024


@compiled()
def _stage_count(hidden, row_bytes):  # type: ignore[no-untyped-def]
    """Stages of the forward sums over h_{t-1} for weight rows of ``row_bytes`` bytes."""
    per_stage = max(1, STAGE_BYTES // row_bytes)
    return -(-hidden // per_stage)


@compiled()
def forward_rows(mode, first, last, part, parts, inputs, weights, bias, state_h, state_c,  # type: ignore[no-untyped-def]
                 seq_h, seq_c, seq_gates, input_part, memory_part, barrier):
    """Forward through all steps of batch rows ``first .. last - 1``, for part ``part`` of
    ``parts`` of the tiles of units.

    mode : what is kept besides h and c (:data:`FORECAST`, :data:`KEEP`, :data:`TRACE`, see
    :func:`lstmlens.tiles.forward_tile`), compiled as a constant (``numba.literally``).
    inputs (B, T, I); weights (tiles, I + H, 4U) and bias (tiles, 4U) in tile layout;
    state_h, state_c (2, B, H) with h_0, c_0 in slot 0 on entry and h_T, c_T in slot T % 2
    on exit; seq_h, seq_c (B, T, H) are written unless their time axis is empty, seq_gates,
    input_part and memory_part (B, T, 4H) as ``mode`` says.

    With one part, the rows are a chunk of the batch that runs alone. With more, the threads
    share out the tiles of units instead (for a batch too small to split, :data:`FORECAST`
    or :data:`KEEP`): every step each part computes its tiles for the rows, then waits at
    ``barrier`` (int64 [ARRIVED, FAILED], see :mod:`lstmlens.atomics`) until the whole h_t is
    written; it returns early if the barrier fails. The serial, row-split and unit-split
    passes are this one function, so each mode is compiled once per dtype (as two functions,
    one mode cost 40-48 s to compile on a 2-core AVX2 VM).
    """
    wide_vectors()
    numba.literally(mode)
    first_tile, last_tile = row_range_compiled(part, parts, weights.shape[0])
    full = first + max(0, last - first) // ROWS * ROWS
    hidden = state_h.shape[2]
    # Stages only for a whole layer: a unit split reads half the weights per thread already,
    # and measured faster without them.
    stages = _stage_count(hidden, weights.shape[2] * weights.itemsize) if parts == 1 else 1
    # Sums left between stages (unused with one stage); rows outside this chunk untouched.
    partial = np.empty((inputs.shape[0] if stages > 1 else 0, 2, weights.shape[2]),
                       weights.dtype)
    # Time outside, tiles next, rows inside: one tile of weights (I + H rows of 4U), or one
    # stage's slice of it, is reused by every row of the step while it is still in cache.
    # With one stage every pass takes the unstaged tile: the same sums, and faster on a Zen 5
    # VM: forecasting 1.05-1.15x (two threads, 32-128 units, 32-256 rows, five repeats
    # each), keeping the gates 1.34x (one thread, 128 units, 256 rows, 24 steps: 8.2
    # against 11.0 ms).
    unstaged = stages == 1
    for t in range(inputs.shape[1]):
        for index in range(first_tile, last_tile):
            tile = alternate(t, index, first_tile, last_tile)
            if unstaged:
                for row in range(first, full, ROWS):
                    forward_tile(ROWS, UNITS, mode, 0, t, row, tile, 0, hidden, partial,
                                 inputs, weights, bias, state_h, state_c, seq_h, seq_c,
                                 seq_gates, input_part, memory_part)
            for stage in range(0 if unstaged else stages):
                k_first, k_last = stage * hidden // stages, (stage + 1) * hidden // stages
                for row in range(first, full, ROWS):
                    forward_tile(ROWS, UNITS, mode, 1, t, row, tile, k_first, k_last, partial,
                                 inputs, weights, bias, state_h, state_c, seq_h, seq_c,
                                 seq_gates, input_part, memory_part)
            for row in range(full, last):
                forward_tile(1, UNITS, mode, 0, t, row, tile, 0, hidden, partial, inputs,
                             weights, bias, state_h, state_c, seq_h, seq_c, seq_gates,
                             input_part, memory_part)
        if parts > 1 and not wait_for_all(barrier, parts, t):
            return
    store_fence()  # the records may have gone out in streaming stores


@compiled()
def forward(inputs, weights, bias, state_h, state_c, seq_h, seq_c, seq_gates, input_part,  # type: ignore[no-untyped-def]
            memory_part):
    """:func:`forward_rows` over every row on the calling thread, for forecasting."""
    wide_vectors()
    first, last, part, parts, barrier = whole_batch(inputs.shape[0])
    forward_rows(FORECAST, first, last, part, parts, inputs, weights, bias, state_h, state_c,
                 seq_h, seq_c, seq_gates, input_part, memory_part, barrier)


@compiled()
def forward_keep(inputs, weights, bias, state_h, state_c, seq_h, seq_c, seq_gates,  # type: ignore[no-untyped-def]
                 input_part, memory_part):
    """:func:`forward` that also keeps the gates for backward."""
    wide_vectors()
    first, last, part, parts, barrier = whole_batch(inputs.shape[0])
    forward_rows(KEEP, first, last, part, parts, inputs, weights, bias, state_h, state_c,
                 seq_h, seq_c, seq_gates, input_part, memory_part, barrier)


@compiled()
def forward_trace(inputs, weights, bias, state_h, state_c, seq_h, seq_c, seq_gates,  # type: ignore[no-untyped-def]
                  input_part, memory_part):
    """:func:`forward` that also keeps the gates and the weighted sums split by source."""
    wide_vectors()
    first, last, part, parts, barrier = whole_batch(inputs.shape[0])
    forward_rows(TRACE, first, last, part, parts, inputs, weights, bias, state_h, state_c,
                 seq_h, seq_c, seq_gates, input_part, memory_part, barrier)


@compiled(parallel=True)
def forward_parallel(chunks, inputs, weights, bias, state_h, state_c, seq_h, seq_c, seq_gates,  # type: ignore[no-untyped-def]
                     input_part, memory_part):
    """:func:`forward` with the rows split into ``chunks`` blocks run on Numba's threads."""
    wide_vectors()
    _, _, part, parts, barrier = whole_batch(inputs.shape[0])
    for chunk in prange(chunks):
        first, last = chunk_rows(chunk, chunks, inputs.shape[0])
        forward_rows(FORECAST, first, last, part, parts, inputs, weights, bias, state_h,
                     state_c, seq_h, seq_c, seq_gates, input_part, memory_part, barrier)


@compiled(parallel=True)
def forward_keep_parallel(chunks, inputs, weights, bias, state_h, state_c, seq_h, seq_c,  # type: ignore[no-untyped-def]
                          seq_gates, input_part, memory_part):
    """:func:`forward_keep` with the rows split into ``chunks`` blocks run on threads."""
    wide_vectors()
    _, _, part, parts, barrier = whole_batch(inputs.shape[0])
    for chunk in prange(chunks):
        first, last = chunk_rows(chunk, chunks, inputs.shape[0])
        forward_rows(KEEP, first, last, part, parts, inputs, weights, bias, state_h, state_c,
                     seq_h, seq_c, seq_gates, input_part, memory_part, barrier)


@compiled(parallel=True)
def forward_units_parallel(parts, inputs, weights, bias, state_h, state_c, seq_h, seq_c,  # type: ignore[no-untyped-def]
                           seq_gates, input_part, memory_part, barrier):
    """:func:`forward` with the tiles of units shared out over ``parts`` threads (see
    :func:`forward_rows`); the caller reruns the work with :func:`forward` if
    ``barrier[FAILED]`` is set afterwards."""
    wide_vectors()
    first, last = chunk_rows(0, 1, inputs.shape[0])
    for part in prange(parts):
        # np.int64: prange's index is unsigned (see lstmlens.splits.chunk_rows)
        forward_rows(FORECAST, first, last, np.int64(part), np.int64(parts), inputs, weights,
                     bias, state_h, state_c, seq_h, seq_c, seq_gates, input_part, memory_part,
                     barrier)


@compiled(parallel=True)
def forward_keep_units_parallel(parts, inputs, weights, bias, state_h, state_c, seq_h, seq_c,  # type: ignore[no-untyped-def]
                                seq_gates, input_part, memory_part, barrier):
    """:func:`forward_units_parallel` that also keeps the gates for backward."""
    wide_vectors()
    first, last = chunk_rows(0, 1, inputs.shape[0])
    for part in prange(parts):
        forward_rows(KEEP, first, last, np.int64(part), np.int64(parts), inputs, weights, bias,
                     state_h, state_c, seq_h, seq_c, seq_gates, input_part, memory_part,
                     barrier)
