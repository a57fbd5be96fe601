"""Copying weights between PyTorch's layout and the tile layout the kernels read.

PyTorch stacks the gates along the 4H axis as blocks: all input gates, then all forget
gates, candidate memories, output gates (row ``g * H + j`` is gate ``g`` of unit ``j``).
The kernels of :mod:`lstmlens.tiles` want the four gates of a few units side by side, so a
tile of ``U`` units can finish its whole step in registers. The tile layout therefore
regroups the rows into ``tiles = ceil(H / U)`` blocks of ``4U`` columns -- column
``g * U + u`` of tile ``j`` is gate ``g`` of unit ``j * U + u`` -- and stores the weights
transposed, one contiguous ``4U`` row per input feature and per short-term memory unit::

    weights  (tiles, I + H, 4U)   rows: x_1 .. x_I, then h_1 .. h_H
    bias     (tiles, 4U)          b_ih + b_hh

Backward reads W_hh and W_ih as copies of their rows regrouped by tile and cut into column
blocks (:func:`pack_backward`): its products run along the rows, so no transpose is needed.

Units past H in the last tile are padding: their weights and bias are zero, so they stay at
c = h = 0 forever and never influence a real unit.

Packing is a transpose of all the weights (about 0.13 ms for 256 units on the development
machine's two threads; layers from :data:`PARALLEL_COPY_MIN_HIDDEN` units share every copy
out over Numba's threads): :class:`lstmlens.network.LSTMNetwork` keeps the packed copy until
its weights change.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from lstmlens.activations import compiled
from lstmlens.cell import FloatArray
from lstmlens.tiles import unsigned

#: U, the units per tile: 4U = 64 float32 columns are four AVX-512 registers per row. It
#: is one constant for every layer and dtype. Narrower tiles (U = 8 for layers of up to
#: 8 units, or for float64) measured no faster: a loop over fewer columns is unrolled into
#: scalar code before LLVM vectorises it, which costs more than the padding saves.
UNITS = 16


def tile_count(hidden: int, units: int = UNITS) -> int:
    """The number of tiles covering ``hidden`` units, the last one possibly padded."""
    return -(-hidden // units)


#: Units from which the copies between layouts are split over Numba's threads: at 256 units
#: the three copies of a training step took 0.76 ms on one thread, a quarter of a batch-1
#: step; at 64 they take 0.06 ms, less than waking the threads costs.
PARALLEL_COPY_MIN_HIDDEN = 128


@compiled()
def _share(part, parts, count):  # type: ignore[no-untyped-def]
    """Items ``first .. last - 1`` of ``count`` that part ``part`` of ``parts`` copies.

    (``part`` and ``parts`` have no defaults in the functions using this on purpose: a call
    from Python that leaves out an argument misses Numba's fast dispatch, 0.1 ms a call.)
    """
    size = -(-count // parts)
    first = min(count, part * size)
    return first, min(count, first + size)


def copy_parts(hidden: int) -> int:
    """How many threads share the copies between layouts of a layer of ``hidden`` units."""
    return int(numba.get_num_threads()) if hidden >= PARALLEL_COPY_MIN_HIDDEN else 1


@compiled(parallel=True)
def pack_forward_parallel(parts, weight_ih, weight_hh, bias_ih, bias_hh, units, weights, bias):  # type: ignore[no-untyped-def]
    """:func:`pack_forward` with its tiles shared out over ``parts`` threads."""
    for part in prange(parts):
        # np.int64: prange's index is unsigned (see lstmlens.splits.chunk_rows)
        pack_forward(weight_ih, weight_hh, bias_ih, bias_hh, units, weights, bias,
                     np.int64(part), parts)


@compiled(parallel=True)
def pack_backward_parallel(parts, weight, units, width, out):  # type: ignore[no-untyped-def]
    """:func:`pack_backward` with its column blocks shared out over ``parts`` threads."""
    for part in prange(parts):
        pack_backward(weight, units, width, out, np.int64(part), parts)


@compiled(parallel=True)
def unpack_gradients_parallel(parts, partial_weights, partial_bias, units, grad_weight_ih,  # type: ignore[no-untyped-def]
                              grad_weight_hh, grad_bias):
    """:func:`unpack_gradients` with its tiles shared out over ``parts`` threads."""
    for part in prange(parts):
        unpack_gradients(partial_weights, partial_bias, units, grad_weight_ih, grad_weight_hh,
                         grad_bias, np.int64(part), parts)


def unpacked_gradients(partial_weights: FloatArray, partial_bias: FloatArray,
                       grad_weight_ih: FloatArray, grad_weight_hh: FloatArray,
                       grad_bias: FloatArray) -> None:
    """:func:`unpack_gradients` with :data:`UNITS`, on threads for large layers (chunk 0 of
    the partial sums is overwritten)."""
    parts = copy_parts(grad_weight_hh.shape[1])
    if parts > 1:
        unpack_gradients_parallel(parts, partial_weights, partial_bias, UNITS, grad_weight_ih,
                                  grad_weight_hh, grad_bias)
    else:
        unpack_gradients(partial_weights, partial_bias, UNITS, grad_weight_ih, grad_weight_hh,
                         grad_bias, 0, 1)


@compiled()
def pack_forward(weight_ih, weight_hh, bias_ih, bias_hh, units, weights, bias, part,  # type: ignore[no-untyped-def]
                 parts):
    """Write weights (tiles, I + H, 4U) and bias (tiles, 4U) in tile layout (see module doc)
    from PyTorch's weight_ih (4H, I), weight_hh (4H, H), bias_ih and bias_hh (4H,).

    Only share ``part`` of ``parts`` of the tiles is written (0 of 1: all of them).
    """
    hidden = weight_hh.shape[1]
    features = weight_ih.shape[1]
    first, last = _share(part, parts, weights.shape[0])
    for tile in range(first, last):
        weights[tile, :, :] = 0
        bias[tile, :] = 0
        valid = min(units, hidden - tile * units)
        # Reads run along PyTorch's contiguous rows; the writes, 4U floats apart, stay in
        # this tile's block of the output (in L2). The other way round was 2x slower.
        for gate in range(4):
            for u in range(valid):
                row = gate * hidden + tile * units + u
                column = gate * units + u
                for k in range(features):
                    weights[tile, k, column] = weight_ih[row, k]
                for k in range(hidden):
                    weights[tile, features + k, column] = weight_hh[row, k]
        for gate in range(4):
            first_row = gate * hidden + tile * units
            for u in range(valid):
                bias[tile, gate * units + u] = bias_ih[first_row + u] + bias_hh[first_row + u]


@compiled()
def pack_backward(weight, units, width, out, part, parts):  # type: ignore[no-untyped-def]
    """Copy PyTorch-layout ``weight`` (4H, m) -- W_hh or W_ih -- for the backward products.

    out (ceil(m / width), tiles * 4U, width): ``out[block, j * 4U + k, c]`` is the weight
    joining column ``k`` of tile ``j`` (gate ``k // U`` of unit ``jU + k % U``) to input
    ``block * width + c``; zero for padding units and past ``m``. Every copy is a run of
    ``width`` contiguous floats of one row of ``weight``: no transpose. Only share ``part``
    of ``parts`` of the column blocks is written (0 of 1: all of them).
    """
    hidden = weight.shape[0] // 4
    inputs = weight.shape[1]
    columns = 4 * units
    first_block, last_block = _share(part, parts, out.shape[0])
    for block in range(first_block, last_block):
        out[block, :, :] = 0
        first = block * width
        count = min(width, inputs - first)
        for j in range(out.shape[1] // columns):
            for k in range(columns):
                unit = j * units + k % units
                if unit < hidden:
                    # Unsigned indices (lstmlens.tiles.unsigned): 3x faster at 64 units.
                    source = unsigned((k // units) * hidden + unit)
                    target = unsigned(j * columns + k)
                    for c in range(count):
                        out[unsigned(block), target, unsigned(c)] = weight[
                            source, unsigned(first + c)]


@compiled()
def unpack_gradients(partial_weights, partial_bias, units, grad_weight_ih, grad_weight_hh,  # type: ignore[no-untyped-def]
                     grad_bias, part, parts):
    """Sum per-chunk gradients in tile layout and write them in PyTorch's layout.

    partial_weights (chunks, tiles, K >= I + H, 4U) and partial_bias (chunks, tiles, 4U) hold
    dL/dW and dL/db of each chunk of batch rows; writes grad_weight_ih (4H, I),
    grad_weight_hh (4H, H) and grad_bias (4H,), the gradient of b_ih + b_hh. The sums over
    chunks are made in place, in chunk order: chunk 0 of both inputs is overwritten. Only
    share ``part`` of ``parts`` of the tiles is written (0 of 1: all of them).

    The chunks are summed along contiguous rows; then each column of a tile (stride 4U)
    becomes the contiguous PyTorch row it is, read and written with unsigned indices
    (:data:`lstmlens.tiles.unsigned`). Against the earlier transpose in blocks of 16 rows,
    on one thread of a Zen 1 VM: 2.1x faster at 64 units (16 against 34 us for one chunk,
    19 against 41 for two), 1.3-2x at 256 units; the same numbers.
    """
    chunks, tiles, _, columns = partial_weights.shape
    hidden = grad_weight_hh.shape[1]
    features = grad_weight_ih.shape[1]
    first, last = _share(part, parts, tiles)
    for tile_ in range(first, last):
        tile = unsigned(tile_)
        for chunk in range(1, chunks):
            for k in range(features + hidden):
                for c in range(columns):
                    partial_weights[0, tile, unsigned(k), unsigned(c)] += partial_weights[
                        unsigned(chunk), tile, unsigned(k), unsigned(c)]
            for c in range(columns):
                partial_bias[0, tile, unsigned(c)] += partial_bias[unsigned(chunk), tile,
                                                                   unsigned(c)]
        for c in range(columns):
            unit = tile_ * units + c % units
            if unit >= hidden:  # a padding unit
                continue
            row = unsigned((c // units) * hidden + unit)
            for k in range(features):
                grad_weight_ih[row, unsigned(k)] = partial_weights[0, tile, unsigned(k),
                                                                   unsigned(c)]
            for k in range(hidden):
                grad_weight_hh[row, unsigned(k)] = partial_weights[0, tile,
                                                                   unsigned(features + k),
                                                                   unsigned(c)]
            grad_bias[row] = partial_bias[0, tile, unsigned(c)]


def packed_forward(
    weight_ih: FloatArray, weight_hh: FloatArray, bias_ih: FloatArray, bias_hh: FloatArray,
    dtype: np.dtype[np.floating],
) -> tuple[FloatArray, FloatArray]:
    """The forward weights and bias of one layer in tile layout (see module doc)."""
    hidden, features = weight_hh.shape[1], weight_ih.shape[1]
    tiles = tile_count(hidden)
    weights = np.empty((tiles, features + hidden, 4 * UNITS), dtype)
    bias = np.empty((tiles, 4 * UNITS), dtype)
    args = (_c(weight_ih, dtype), _c(weight_hh, dtype), _c(bias_ih, dtype), _c(bias_hh, dtype),
            UNITS, weights, bias)
    parts = copy_parts(hidden)
    if parts > 1:
        pack_forward_parallel(parts, *args)
    else:
        pack_forward(*args, 0, 1)
    return weights, bias


def _c(array: FloatArray, dtype: np.dtype[np.floating]) -> FloatArray:
    return np.ascontiguousarray(array, dtype=dtype)


def packed_backward(weight: FloatArray, width: int) -> FloatArray:
    """:func:`pack_backward` of ``weight`` (4H, m) into a new array."""
    hidden = weight.shape[0] // 4
    tiles = tile_count(hidden)
    out = np.empty((tile_count(weight.shape[1], width), tiles * 4 * UNITS, width), weight.dtype)
    parts = copy_parts(hidden)
    if parts > 1:
        pack_backward_parallel(parts, np.ascontiguousarray(weight), UNITS, width, out)
    else:
        pack_backward(np.ascontiguousarray(weight), UNITS, width, out, 0, 1)
    return out
