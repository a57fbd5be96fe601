"""Register blocks of the backward pass, compiled as functions of their own.

The two big products of backpropagation through time are

* dL/dh_{t-1} = dz_t W_hh, once per step (:func:`product_block`), and
* dL/dW = sum over (step, row) pairs of [x_t, h_{t-1}] (x) dz_t (:func:`gradient_block`).

Both are register tiles like those of :mod:`lstmlens.tiles` -- ``ROWS x WIDTH`` running sums
that stay in registers while the loop over the shared dimension streams one row of operands
at a time -- but here each is a separate compiled function that the loops of
:mod:`lstmlens.bptt` call, rather than code inlined into them. Inlined into the loop nest
of a whole backward pass on a CPU with AVX2 (16 vector registers), LLVM ran out of registers
for the nest's indices and bounds besides the sums, and stored the sums to the stack inside
the innermost loop: on two threads of a Zen 3 VM the dL/dW sums ran at 42-57 GFLOP/s and the
dL/dh_{t-1} product at 27-42 GFLOP/s. As functions of their own, 16 columns wide, the same
sums measured 97-110 and 90-123 GFLOP/s.

The width depends on the CPU. With AVX2's 16 registers of 8 float32, :data:`ROWS` x 16 sums
is 8 registers, leaving room for the operands; with AVX-512's 32 registers of 16 float32
(:func:`lstmlens.cpu.wide_vectors`), :data:`ROWS` x 64 sums is 16 of them, the width the
tiles use. On two threads of a Sapphire Rapids VM, 24 steps, 64 to 256 units, 32 and 256
rows, widths 32 and 64 and slices of 2 or 4 tiles of W_hh were within the noise of each
other (the whole backward pass at 42-50 ms for 256 units and 256 rows): there the blocks
keep the tiles' width and sum every tile at once.
"""

from __future__ import annotations

import numba

from lstmlens.activations import compiled
from lstmlens.cpu import has_avx512, wide_vectors
from lstmlens.tiles import ROWS, stack_like, unsigned

_WIDE = has_avx512()
#: Columns per block: see the module docstring.
WIDTH = 64 if _WIDE else 16
_SUMS = ROWS * WIDTH  # spelled out: stack buffers need an integer known when compiling
#: Tiles of dz_t summed by one :func:`product_block` call. Four tiles of W_hh for one block
#: of :data:`WIDTH` columns (4 x 64 x 16 float32, 16 KiB) stay in the L1 cache while every
#: row group of the batch reuses them; the sums of the next four tiles are added to those
#: already in dL/dh_{t-1}. With AVX-512 every tile is summed in one call.
PRODUCT_TILES = 1 << 30 if _WIDE else 4
#: (step, row) pairs per cache block of the dL/dW sums: one :data:`WIDTH`-column slice of
#: a tile's dz over a block (128 x 64 float32 with AVX-512, 32 KiB; 8 KiB with AVX2) stays
#: in the L1 cache while every input row reuses it. With AVX-512 the dL/dW sums measured
#: 10-15 % faster than with 256 pairs (64 KiB, past a 48 KiB L1) and than with 64: 17.7-19.0
#: against 20.9-21.4 ms at 256 units, 256 rows, 24 steps, on two threads of a Sapphire
#: Rapids VM. With AVX2 on a Zen 1 VM, 64 and 128 pairs were within the noise (57-60 ms at
#: 256 units, 256 rows, 24 steps), 32 slower (67 ms).
GRADIENT_BLOCK = 128


@compiled()
def product_block(row, block, c0, t, j0, j1, grad_z, weights, out):  # type: ignore[no-untyped-def]
    """Rows ``row .. row + ROWS - 1``, columns ``c0 ..`` of dL/dh_{t-1} = dz_t W_hh, tiles
    ``j0 .. j1 - 1`` of the sum.

    grad_z (tiles, T, B, 4U) is dL/dz tile-major, weights (column blocks, tiles * 4U, 4U)
    is W_hh as :func:`lstmlens.layouts.pack_backward` lays it out, out (B, H) is dL/dh_{t-1}:
    ``out[row + r, block * 4U + c0 + c]`` becomes ``sum_{j, k} grad_z[j, t, row + r, k] *
    weights[block, j * 4U + k, c0 + c]`` over ``j0 <= j < j1`` -- plus what out already
    holds when ``j0 > 0``, so calls over consecutive ranges of tiles sum all of them.
    Columns past H are neither read nor written.
    """
    wide_vectors()
    acc = numba.carray(stack_like(_SUMS, weights), (ROWS, WIDTH))
    for r in range(ROWS):
        for c in range(WIDTH):
            acc[r, c] = 0
    columns = grad_z.shape[3]
    for j in range(j0, j1):
        for k in range(columns):
            for c in range(WIDTH):
                w = weights[unsigned(block), unsigned(j * columns + k), unsigned(c0 + c)]
                for r in range(ROWS):
                    acc[r, c] += grad_z[unsigned(j), unsigned(t), unsigned(row + r),
                                        unsigned(k)] * w
    first = block * columns + c0
    valid = min(WIDTH, out.shape[1] - first)
    # The masked stores keep the columns past H untouched (as in lstmlens.tiles); the
    # first range of tiles overwrites, the later ones add.
    if j0 == 0:
        for r in range(ROWS):
            for c in range(WIDTH):
                if c < valid:
                    out[row + r, unsigned(first + c)] = acc[r, c]
    else:
        for r in range(ROWS):
            for c in range(WIDTH):
                if c < valid:
                    out[row + r, unsigned(first + c)] += acc[r, c]


@compiled()
def gradient_block(t0, t1, b0, b1, k0, c0, tile, source, grad_z, out):  # type: ignore[no-untyped-def]
    """Add the (step, row) pairs ``t0 <= t < t1``, ``b0 <= b < b1`` to a block of dL/dW:
    ``out[tile, k0 + r, c0 + c] += sum_{t, b} source[t, b, k0 + r] * grad_z[tile, t, b, c0 + c]``
    for ``r < ROWS, c < WIDTH``.

    source (T, B, K) holds [x_t, h_{t-1}] per pair (K a multiple of :data:`ROWS`); grad_z
    (tiles, T, B, 4U) is dL/dz tile-major, so a step's rows are read in order; out
    (tiles, K, 4U) is in tile layout like the weights.
    """
    wide_vectors()
    acc = numba.carray(stack_like(_SUMS, out), (ROWS, WIDTH))
    for r in range(ROWS):
        for c in range(WIDTH):
            acc[r, c] = out[tile, k0 + r, unsigned(c0 + c)]
    for t in range(t0, t1):
        for b in range(b0, b1):
            for c in range(WIDTH):
                d = grad_z[unsigned(tile), unsigned(t), unsigned(b), unsigned(c0 + c)]
                for r in range(ROWS):
                    acc[r, c] += source[unsigned(t), unsigned(b), unsigned(k0 + r)] * d
    for r in range(ROWS):
        for c in range(WIDTH):
            out[tile, k0 + r, unsigned(c0 + c)] = acc[r, c]
