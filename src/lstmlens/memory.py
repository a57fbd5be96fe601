"""Keeping freed memory in the process, so that fresh arrays do not cost page faults.

A training step allocates and frees the same large arrays every time (the gates and
memories kept for backward, dL/dz of every step, per-thread gradient sums: megabytes at a
few hundred units). glibc's malloc serves blocks from 128 KB up with ``mmap`` and gives
trimmed heap space back to the system, adjusting both limits as it goes; when arrays of
successive steps are alive at the same time (a caller keeping the last gradients, as any
optimiser loop does) the adjustment misses and every step maps its arrays afresh. Each new
4 KB page then costs a page fault when first written: measured on a 2-vCPU virtual machine,
2,200 faults and 17 ms of system time per backward pass at 256 units and batch 32 (before
:func:`scratch` below existed), twice the arithmetic.

:func:`keep_freed_memory` raises both limits, so those arrays come from the heap and are
reused. The cost is that the process keeps up to :data:`TRIM_THRESHOLD` bytes of freed
memory instead of returning it. It is a process-wide setting of the C library (it helps
NumPy and PyTorch alike); lstmlens applies it when its engine is imported, unless the
environment variable ``LSTMLENS_KEEP_FREED_MEMORY`` is ``0``. Other C libraries than glibc
are left alone.

Arrays of more than :data:`MMAP_THRESHOLD` bytes are mapped afresh whatever the setting; for
the temporaries of one call that can be that large (dL/dz of every step: 100 MB at 256
units, batch 256, 96 steps, whose first writes cost 20 ms of system time per backward pass)
:func:`scratch` keeps one buffer per name and thread, reused by the next call. The arrays
a call hands out that can be that large (the gate record of a training step: 100 MB at 256
units, batch 256, 96 steps, up to a third of the step's time in page faults) come from
:func:`reusable`, which hands a buffer out again once nothing references it any more.
"""

from __future__ import annotations

import ctypes
import math
import os
import platform
import sys
import threading

import numpy as np

#: Blocks smaller than this come from the heap (glibc's largest allowed value on 64 bits).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Freed heap space kept at the top of the heap before any is returned to the system.
TRIM_THRESHOLD = 256 * 1024 * 1024
#: ``mallopt`` parameter numbers, from glibc's ``malloc.h``.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: The environment variable that turns the setting off (value ``0``).
ENVIRONMENT_SWITCH = "LSTMLENS_KEEP_FREED_MEMORY"


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep and reuse freed blocks of up to :data:`MMAP_THRESHOLD`.

    Returns
    -------
    bool
        True if the setting was applied; False when turned off by
        ``LSTMLENS_KEEP_FREED_MEMORY=0``, on a C library other than glibc, or if
        ``mallopt`` refused.
    """
    if os.environ.get(ENVIRONMENT_SWITCH, "1").strip() == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; both must hold, or the heap is still trimmed.
    applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                   and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    _policy.keeping = applied
    return applied


class _Policy:
    """Whether :func:`keep_freed_memory` is in force (then :func:`reusable` keeps buffers)."""

    keeping = False


_policy = _Policy()


_scratch = threading.local()


def scratch(name: str, shape: tuple[int, ...], dtype: np.dtype[np.floating]) -> np.ndarray:
    """An uninitialised C-contiguous array for temporary use within one call.

    The memory is kept per ``name`` and thread and handed out again by the next call with
    that name, grown when a larger shape is asked for: the caller must be done with the
    array before it asks again, and must not return it. :func:`release_scratch` frees it.
    """
    buffers: dict[tuple[str, np.dtype[np.floating]], np.ndarray] = (
        _scratch.__dict__.setdefault("buffers", {}))
    size = math.prod(shape)
    buffer = buffers.get((name, dtype))
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype)
        buffers[(name, dtype)] = buffer
    return buffer[:size].reshape(shape)


def release_scratch() -> None:
    """Free this thread's :func:`scratch` and :func:`reusable` buffers (they are made again
    when needed)."""
    _scratch.__dict__.pop("buffers", None)
    _scratch.__dict__.pop("reusable", None)


#: Buffers :func:`reusable` keeps per name and thread, the oldest dropped first.
REUSABLE_PER_NAME = 4
#: Bytes of buffers :func:`reusable` keeps per thread, in use or not (the oldest dropped
#: first); a larger array is never kept. Two gate records of 100 MB fit, as a training loop
#: that still holds the last step's result while it runs the next needs.
REUSABLE_BYTES = TRIM_THRESHOLD


def _references(buffers: list[np.ndarray], index: int) -> int:
    # The references to buffers[index]: the list's own and the argument's when nothing else
    # holds the array, or any view of it (a view references the array it was made from).
    return sys.getrefcount(buffers[index])


#: What :func:`_references` counts for an array that only its list holds, measured rather
#: than assumed, so that a Python whose counting differs reuses nothing instead of an array
#: still in use.
_UNREFERENCED = _references([np.empty(1)], 0)


#: Where the data of the larger arrays :func:`reusable` hands out starts: on a cache-line
#: boundary, as the streaming stores of :mod:`lstmlens.streaming_stores` need (glibc's
#: malloc aligns its blocks to 16 bytes, so they would never stream).
ALIGNMENT = 64
#: Arrays from this size are aligned: a quarter of the gate record from which the tiles
#: stream (the memories h_t and c_t are that), below which making the aligned array (1.3
#: against 0.2 us) would only cost.
ALIGNED_MIN_BYTES = 512 * 1024


def _aligned_view(owner: np.ndarray, shape: tuple[int, ...],
                  dtype: np.dtype[np.floating]) -> np.ndarray:
    """``shape`` of ``dtype`` in the bytes of ``owner`` from its first aligned address."""
    start = -owner.ctypes.data % ALIGNMENT
    return np.ndarray(shape, dtype, buffer=owner, offset=start)


def _owner(nbytes: int) -> np.ndarray:
    """Bytes enough for an aligned array of ``nbytes``."""
    return np.empty(nbytes + ALIGNMENT - 1, np.uint8)


def reusable(name: str, shape: tuple[int, ...], dtype: np.dtype[np.floating]) -> np.ndarray:
    """An uninitialised C-contiguous array that the caller may hand out and keep.

    Arrays of more than :data:`MMAP_THRESHOLD` bytes, which malloc would map and the first
    writes fault in afresh on every call, are taken from those made earlier for ``name`` on
    this thread that nothing references any more (neither the array nor any view of it),
    while :func:`keep_freed_memory` is in force; up to :data:`REUSABLE_PER_NAME` are kept
    per name and :data:`REUSABLE_BYTES` in all.
    Smaller arrays, and all of them when the setting is off, are made afresh. Reused arrays
    and new ones of :data:`ALIGNED_MIN_BYTES` or more start on an :data:`ALIGNMENT`-byte
    boundary.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes <= MMAP_THRESHOLD or not _policy.keeping:
        if nbytes < ALIGNED_MIN_BYTES:
            return np.empty(shape, dtype)
        return _aligned_view(_owner(nbytes), shape, dtype)
    # The pool keeps the byte buffers that own the memory: every array or view made from
    # one references it (NumPy points a view of a view at the owner), so its count of
    # references says whether anything still uses it.
    pools: dict[str, list[np.ndarray]] = _scratch.__dict__.setdefault("reusable", {})
    owners = pools.setdefault(name, [])
    for index in range(len(owners)):
        if owners[index].nbytes == nbytes + ALIGNMENT - 1 and (
                _references(owners, index) == _UNREFERENCED):
            return _aligned_view(owners[index], shape, dtype)
    owner = _owner(nbytes)
    if owner.nbytes <= REUSABLE_BYTES:
        owners.append(owner)
        del owners[:-REUSABLE_PER_NAME]
        _trim(pools)
    return _aligned_view(owner, shape, dtype)


def _trim(pools: dict[str, list[np.ndarray]]) -> None:
    """Drop the oldest buffers of the longest-kept names until :data:`REUSABLE_BYTES` hold."""
    while sum(b.nbytes for buffers in pools.values() for b in buffers) > REUSABLE_BYTES:
        longest = max(pools.values(), key=len)
        del longest[0]
