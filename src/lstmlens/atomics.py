"""Atomic counters and a spinning barrier for compiled code (Numba has neither built in).

:mod:`lstmlens.sequences` and :mod:`lstmlens.bptt` use them to split one sequence's units
over two threads: every step both threads must see the whole short-term memory of the step
before, so they meet at a barrier once or twice per step. Meeting through an OpenMP region
per step would cost 10-100 us; a barrier on one shared counter costs about the time a cache
line takes to travel between the cores.

The barrier can time out. A thread that waits longer than :data:`SPIN_LIMIT` spins (far
longer than any normal delay) marks the barrier failed and every thread returns early; the
caller then reruns the work on one thread. That makes the barrier safe even where the two
parts do not really run at the same time (a threading layer that runs them one after the
other would otherwise wait forever).
"""

from __future__ import annotations

import platform
from typing import Any

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from lstmlens.activations import KERNEL_OPTIONS

#: Slots of the int64 array a barrier lives in.
ARRIVED, FAILED = 0, 1
#: Spins before a barrier gives up: with a ``pause`` per spin, a few tens of milliseconds.
SPIN_LIMIT = 2_000_000


def _counter_pointer(context: Any, builder: Any, array_type: Any, array: Any, index: Any) -> Any:
    ary = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, ary, [index])


def _is_counter_array(array: Any) -> bool:
    return isinstance(array, types.Array) and array.dtype == types.int64 and array.ndim == 1


@intrinsic
def atomic_add(typingctx: Any, array: Any, index: Any, value: Any) -> Any:
    """``array[index] += value`` in one indivisible step (seq_cst); returns the old value."""
    if not _is_counter_array(array) or not isinstance(index, types.Integer):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        pointer = _counter_pointer(context, builder, signature.args[0], args[0], args[1])
        amount = context.cast(builder, args[2], signature.args[2], types.int64)
        return builder.atomic_rmw("add", pointer, amount, "seq_cst")

    return types.int64(array, index, value), codegen


@intrinsic
def atomic_load(typingctx: Any, array: Any, index: Any) -> Any:
    """Read ``array[index]`` with acquire ordering: writes made before another thread's
    release store or atomic add are visible after it (and the load is never hoisted)."""
    if not _is_counter_array(array) or not isinstance(index, types.Integer):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        pointer = _counter_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(pointer, "acquire", 8)

    return types.int64(array, index), codegen


@intrinsic
def atomic_store(typingctx: Any, array: Any, index: Any, value: Any) -> Any:
    """Write ``array[index] = value`` with release ordering."""
    if not _is_counter_array(array) or not isinstance(index, types.Integer):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        pointer = _counter_pointer(context, builder, signature.args[0], args[0], args[1])
        amount = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(amount, pointer, "release", 8)
        return context.get_dummy_value()

    return types.void(array, index, value), codegen


#: The CPU's spin-wait hint as an LLVM intrinsic (inline assembly is not available to
#: llvmlite's code generator): ``pause`` on x86, ``yield`` (hint 1) on ARM, else none.
_MACHINE = platform.machine().lower()
_PAUSE = ("llvm.x86.sse2.pause" if _MACHINE in ("x86_64", "amd64", "i686")
          else "llvm.aarch64.hint" if _MACHINE in ("aarch64", "arm64") else None)


@intrinsic
def spin_pause(typingctx: Any) -> Any:
    """The spin-wait hint inside a spin loop (frees the core's shared resources)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        if _PAUSE == "llvm.aarch64.hint":
            hint = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(32)]), _PAUSE)
            builder.call(hint, [ir.Constant(ir.IntType(32), 1)])
        elif _PAUSE is not None:
            pause = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), _PAUSE)
            builder.call(pause, [])
        return context.get_dummy_value()

    return types.void(), codegen


@njit(inline="always", **KERNEL_OPTIONS)
def wait_for_all(barrier, parties, generation):  # type: ignore[no-untyped-def]
    """Arrive at the ``generation``-th meeting (0, 1, ...) of ``parties`` threads and wait
    for the others. barrier : int64 [ARRIVED, FAILED], zero before the first meeting.
    Returns True once all have arrived, False if the barrier failed (see module doc)."""
    atomic_add(barrier, ARRIVED, 1)
    target = parties * (generation + 1)
    spins = 0
    while atomic_load(barrier, ARRIVED) < target:
        if atomic_load(barrier, FAILED) != 0:
            return False
        spins += 1
        if spins >= SPIN_LIMIT:
            atomic_store(barrier, FAILED, 1)
            return False
        spin_pause()
    return atomic_load(barrier, FAILED) == 0
