"""Compiled checks that every forward pass makes: finite inputs, unchanged weights.

A small forward pass (one series of 24 steps at 8 units) is about 10 microseconds in all,
so checks that NumPy makes with temporary arrays cost a visible share of it:
``np.isfinite(x).all()`` 1.1 us and ``np.array_equal`` on 585 weights 1.4 us, against
0.15 and 0.2 us for the loops here (and 2.5x and 1.4x less at 32 x 96 x 8 inputs and
272,641 weights; two threads of a Zen 5 VM).
"""

from __future__ import annotations

import numba
import numpy as np

from lstmlens.activations import compiled
from lstmlens.cpu import wide_vectors

#: Elements compared between two early exits of :func:`same_bits`: long enough for the
#: inner loop to run in vectors, short enough that a difference near the start is found
#: without reading everything.
BLOCK = 1024


@compiled()
def all_finite(values):  # type: ignore[no-untyped-def]
    """Whether no element of the float array ``values`` (any shape) is NaN or infinite."""
    wide_vectors()
    flat = values.ravel()
    finite = True
    for index in range(flat.size):
        finite &= np.isfinite(flat[numba.uint64(index)])
    return finite


@compiled()
def same_bits(first, second):  # type: ignore[no-untyped-def]
    """Whether two 1-D unsigned-integer arrays of the same length hold the same values.

    Given the bits of two float arrays (``array.view(np.uint32)``), it says whether they
    hold the same numbers bit for bit: stricter than ``==`` for 0.0 against -0.0, and a NaN
    equals itself.
    """
    wide_vectors()
    size = first.shape[0]
    if second.shape[0] != size:
        return False
    for start in range(0, size, BLOCK):
        differ = first.dtype.type(0)
        # An unsigned index, or Numba's wrap-around of negative ones keeps LLVM from
        # vectorising the loop (8x slower).
        for index in range(start, min(size, start + BLOCK)):
            differ |= first[numba.uint64(index)] ^ second[numba.uint64(index)]
        if differ != 0:
            return False
    return True


def bits(values: np.ndarray) -> np.ndarray:
    """The float array ``values`` (C-contiguous) viewed as unsigned integers of its width."""
    return values.view(np.uint32 if values.itemsize == 4 else np.uint64)
