"""The two squashing functions of the seed, in the form the compiled kernels use.

``squash`` is tanh (the seed's "new value" function, into (-1, 1)) and ``percent`` is the
sigmoid (its "percentage" function, into (0, 1)). Both are plain Python for reading and are
``@overload``-ed for Numba:

* float64 keeps ``np.tanh`` and ``sigmoid(x) = 0.5 * (1 + tanh(x / 2))``, exactly as
  :func:`lstmlens.cell.sigmoid`, so compiled float64 follows the NumPy reference to rounding.
* float32 uses a rational tanh (Eigen's ``generic_fast_tanh_float``: odd numerator over even
  denominator, max abs error 4e-7) that LLVM vectorises, where libm's ``tanhf`` would be a
  scalar call per element.

``error_model="numpy"`` everywhere: Python's zero-division checks would block vectorisation
of the division inside the rational tanh.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

#: Options of every compiled kernel and of the overloads they call: GIL released, Python's
#: zero-division checks off (they block vectorisation), FMA contraction allowed (no other
#: fast-math, so float64 stays deterministic and exact to rounding).
KERNEL_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy",
                                  "fastmath": {"contract"}}


def compiled(parallel: bool = False) -> Any:
    """The Numba options of every kernel: cached on disk, GIL released, FMA contraction
    allowed (no other fast-math, so float64 stays deterministic and exact to rounding)."""
    return njit(cache=True, parallel=parallel, **KERNEL_OPTIONS)


def cached_on_disk(*kernels: Any) -> bool:
    """Whether Numba's disk cache has an index file for each of these :func:`compiled`
    kernels (some compiled version of each). Errs towards True if the cache cannot be
    inspected."""
    try:
        return all(os.path.exists(kernel._cache._cache_file._index_path) for kernel in kernels)
    except (AttributeError, OSError):
        return True


_F32 = np.float32
_CLAMP = _F32(7.90531110763549805)  # tanh is 1 - 2e-7 beyond it in float32
_A1, _A3, _A5 = _F32(4.89352455891786e-03), _F32(6.37261928875436e-04), _F32(1.48572235717979e-05)
_A7, _A9 = _F32(5.12229709037114e-08), _F32(-8.60467152213735e-11)
_A11, _A13 = _F32(2.00018790482477e-13), _F32(-2.76076847742355e-16)
_B0, _B2 = _F32(4.89352518554385e-03), _F32(2.26843463243900e-03)
_B4, _B6 = _F32(1.18534705686654e-04), _F32(1.19825839466702e-06)
_HALF32 = _F32(0.5)
_ONE32 = _F32(1.0)


def squash(x: float) -> float:
    """tanh(x): exact ``np.tanh`` for float64, the fast rational form for float32."""
    return float(np.tanh(x))


def percent(x: float) -> float:
    """sigmoid(x) = 0.5 * (1 + tanh(x / 2)), through :func:`squash`."""
    return 0.5 * (1.0 + float(np.tanh(0.5 * x)))


def one_like(x: float) -> float:
    """1 in the type of ``x`` (so float32 arithmetic is not promoted to float64)."""
    return 1.0


@njit(inline="always", error_model="numpy")
def _tanh_f32(x):  # type: ignore[no-untyped-def]
    x = x if x < _CLAMP else _CLAMP
    x = x if x > -_CLAMP else -_CLAMP
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    return x * p / q


@njit(inline="always", error_model="numpy")
def _sigmoid_f32(x):  # type: ignore[no-untyped-def]
    # Add, then multiply: no a * b + c for the compiler to fuse into an FMA in some kernels
    # and not in others, so every kernel rounds the gates the same way.
    return _HALF32 * (_ONE32 + _tanh_f32(_HALF32 * x))


@overload(one_like)
def _one_like_overload(x):  # type: ignore[no-untyped-def]
    if x == types.float32:
        return lambda x: _ONE32
    return lambda x: 1.0


@overload(squash, jit_options={"error_model": "numpy"})
def _squash_overload(x):  # type: ignore[no-untyped-def]
    if x == types.float32:
        return lambda x: _tanh_f32(x)
    return lambda x: np.tanh(x)


@overload(percent, jit_options={"error_model": "numpy"})
def _percent_overload(x):  # type: ignore[no-untyped-def]
    if x == types.float32:
        return lambda x: _sigmoid_f32(x)
    # Same formula as cell.sigmoid, so float64 activations match the reference bit for bit.
    return lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))
