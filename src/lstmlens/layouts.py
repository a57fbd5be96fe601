"""Copying weights between PyTorch's layout and the tile layout the kernels read.

PyTorch stacks the gates along the 4H axis as blocks: all input gates, then all forget
gates, candidate memories, output gates (row ``g * H + j`` is gate ``g`` of unit ``j``).
The kernels of :mod:`lstmlens.tiles` want the four gates of a few units side by side, so a
tile of ``U`` units can finish its whole step in registers. The tile layout therefore
regroups the rows into ``tiles = ceil(H / U)`` blocks of ``4U`` columns -- column
``g * U + u`` of tile ``j`` is gate ``g`` of unit ``j * U + u`` -- and stores the weights
transposed, one contiguous ``4U`` row per input feature and per short-term memory unit::

    forward weights  (tiles, I + H, 4U)   rows: x_1 .. x_I, then h_1 .. h_H
    forward bias     (tiles, 4U)          b_ih + b_hh
    backward weights (column tiles, 4 * tiles * U, width)   W_hh or W_ih, transposed back

Units past H in the last tile are padding: their weights and bias are zero, so they stay at
c = h = 0 forever and never influence a real unit.

Packing costs one pass over the weights (about what one Adam step costs), so it is redone
on every call rather than cached: parameters can be edited in place, and a stale copy would
silently compute with old weights.
"""

from __future__ import annotations

import numpy as np

from lstmlens.activations import compiled
from lstmlens.cell import FloatArray

#: U, the units per tile: 4U = 64 float32 columns are four AVX-512 registers per row. It
#: is one constant for every layer and dtype. Narrower tiles (U = 8 for layers of up to
#: 8 units, or for float64) measured no faster: a loop over fewer columns is unrolled into
#: scalar code before LLVM vectorises it, which costs more than the padding saves.
UNITS = 16


def tile_count(hidden: int, units: int = UNITS) -> int:
    """The number of tiles covering ``hidden`` units, the last one possibly padded."""
    return -(-hidden // units)


@compiled()
def pack_forward(weight_ih, weight_hh, bias_ih, bias_hh, units, weights, bias):  # type: ignore[no-untyped-def]
    """Write weights (tiles, I + H, 4U) and bias (tiles, 4U) in tile layout (see module doc)
    from PyTorch's weight_ih (4H, I), weight_hh (4H, H), bias_ih and bias_hh (4H,)."""
    hidden = weight_hh.shape[1]
    features = weight_ih.shape[1]
    weights[:] = 0
    bias[:] = 0
    for gate in range(4):
        for unit in range(hidden):
            tile, column = unit // units, gate * units + unit % units
            row = gate * hidden + unit
            for k in range(features):
                weights[tile, k, column] = weight_ih[row, k]
            for k in range(hidden):
                weights[tile, features + k, column] = weight_hh[row, k]
            bias[tile, column] = bias_ih[row] + bias_hh[row]


@compiled()
def pack_backward(weights, first, count, width, out):  # type: ignore[no-untyped-def]
    """Transpose rows ``first .. first + count - 1`` of tile-layout ``weights`` back.

    out (ceil(count / width), tiles * 4U, width): ``out[j, c, w]`` is the weight joining
    packed column ``c`` to input row ``first + j * width + w`` (zero past ``count``). With
    ``first = I, count = H`` this is W_hh for dL/dh_{t-1} = dz_t W_hh; with ``first = 0,
    count = I`` it is W_ih for dL/dx_t = dz_t W_ih.
    """
    tiles, _, columns = weights.shape
    out[:] = 0
    for k in range(count):
        block, offset = k // width, k % width
        for tile in range(tiles):
            for c in range(columns):
                out[block, tile * columns + c, offset] = weights[tile, first + k, c]


@compiled()
def unpack_gradients(partial_weights, partial_bias, units, grad_weight_ih, grad_weight_hh,  # type: ignore[no-untyped-def]
                     grad_bias):
    """Sum per-chunk gradients in tile layout and write them in PyTorch's layout.

    partial_weights (chunks, tiles, I + H, 4U) and partial_bias (chunks, tiles * 4U) hold
    dL/dW and dL/db of each chunk of batch rows; writes grad_weight_ih (4H, I),
    grad_weight_hh (4H, H) and grad_bias (4H,), the gradient of b_ih + b_hh.
    """
    chunks = partial_weights.shape[0]
    hidden = grad_weight_hh.shape[1]
    features = grad_weight_ih.shape[1]
    for gate in range(4):
        for unit in range(hidden):
            tile, column = unit // units, gate * units + unit % units
            row = gate * hidden + unit
            for k in range(features + hidden):
                total = partial_weights[0, tile, k, column]
                for chunk in range(1, chunks):
                    total += partial_weights[chunk, tile, k, column]
                if k < features:
                    grad_weight_ih[row, k] = total
                else:
                    grad_weight_hh[row, k - features] = total
            total = partial_bias[0, tile * 4 * units + column]
            for chunk in range(1, chunks):
                total += partial_bias[chunk, tile * 4 * units + column]
            grad_bias[row] = total


def packed_forward(
    weight_ih: FloatArray, weight_hh: FloatArray, bias_ih: FloatArray, bias_hh: FloatArray,
    dtype: np.dtype[np.floating],
) -> tuple[FloatArray, FloatArray]:
    """The forward weights and bias of one layer in tile layout (see module doc)."""
    hidden, features = weight_hh.shape[1], weight_ih.shape[1]
    tiles = tile_count(hidden)
    weights = np.empty((tiles, features + hidden, 4 * UNITS), dtype)
    bias = np.empty((tiles, 4 * UNITS), dtype)
    pack_forward(_c(weight_ih, dtype), _c(weight_hh, dtype), _c(bias_ih, dtype),
                 _c(bias_hh, dtype), UNITS, weights, bias)
    return weights, bias


def packed_backward(weights: FloatArray, first: int, count: int, width: int) -> FloatArray:
    """:func:`pack_backward` into a new array."""
    tiles, _, columns = weights.shape
    out = np.empty((tile_count(count, width), tiles * columns, width), weights.dtype)
    pack_backward(weights, first, count, width, out)
    return out


def _c(array: FloatArray, dtype: np.dtype[np.floating]) -> FloatArray:
    return np.ascontiguousarray(array, dtype=dtype)
