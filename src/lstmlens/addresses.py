"""Hand a compiled function many arrays through one integer: their addresses in a table.

Calling a Numba function from Python costs about 30 ns for every array argument (each is
checked and wrapped in a reference-counted handle on the way in), against about 10 ns for
an integer. For a step that is itself a few hundred nanoseconds -- one streamed observation
of a small network -- the arrays cost more than a third of the call. An :class:`AddressTable`
instead lists the data address and shape of arrays that one Python object owns, and the
compiled side rebuilds them with :func:`array_at` from the table's address alone.

Rebuilt arrays carry no reference count (Numba's ``carray``), so nothing keeps their memory
alive from the compiled side: the table holds a reference to every array it lists, and
whoever owns the table must keep it, and never call with its address after dropping it.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic, overload
from numba.np.unsafe.ndarray import to_fixed_tuple

from lstmlens.activations import KERNEL_OPTIONS
from lstmlens.cell import FloatArray
from lstmlens.tiles import compiled_only, literal


@intrinsic
def pointer_at(typingctx: Any, address: Any, like: Any) -> Any:
    """The integer ``address`` as a pointer to elements of ``like``'s dtype (``like`` an
    array, or a number whose own type is meant)."""
    if not isinstance(address, types.Integer):
        return None
    element = like.dtype if isinstance(like, types.Array) else like
    if not isinstance(element, types.Number):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        pointer_type = context.get_value_type(types.CPointer(element))
        return builder.inttoptr(args[0], pointer_type)

    return types.CPointer(element)(address, like), codegen


@compiled_only
def table_at(address):  # type: ignore[no-untyped-def]
    """The :class:`AddressTable` at ``address``, as an int64 array (compiled code only)."""
    raise NotImplementedError("compiled only: call from a Numba function")


# Neither overload here is inline="always" (unlike the tiles'): with array_at inlined,
# Numba's own dead-code pass dropped a store the caller made into the table afterwards (the
# streamer's step count stayed 0). As calls, LLVM still inlines them.
@overload(table_at, jit_options=KERNEL_OPTIONS)
def _table_at(address):  # type: ignore[no-untyped-def]
    def impl(address):  # type: ignore[no-untyped-def]
        length = numba.carray(pointer_at(address, address), (1,))[0]  # the table's first entry
        return numba.carray(pointer_at(address, address), (length,))

    return impl


@compiled_only
def array_at(table, at, ndim, like):  # type: ignore[no-untyped-def]
    """``(array, next)``: the array whose record starts at ``table[at]``, with ``ndim`` (an
    integer literal) dimensions and ``like``'s dtype, and where the next record starts.
    Raises ValueError if the record says another number of dimensions."""
    raise NotImplementedError("compiled only: call from a Numba function")


@overload(array_at, jit_options=KERNEL_OPTIONS)
def _array_at(table, at, ndim, like):  # type: ignore[no-untyped-def]
    N = literal(ndim)
    if N is None:
        return None

    def impl(table, at, ndim, like):  # type: ignore[no-untyped-def]
        if table[at + 1] != N:
            raise ValueError("an address table record has another number of dimensions")
        shape = to_fixed_tuple(table[at + 2: at + 2 + N], N)
        return numba.carray(pointer_at(table[at], like), shape), at + 2 + N

    return impl


class AddressTable:
    """An int64 array ``[length, records..., slots...]``: one ``[address, ndim, shape...]``
    record per array, then a few integer slots for the compiled side's own use.

    Parameters
    ----------
    arrays : sequence of C-contiguous ndarrays
        Listed in this order; all must stay the same objects (fill them in place).
    slots : int
        Extra integers after the records, zero to start with.
    """

    def __init__(self, arrays: list[FloatArray], slots: int = 0):
        records: list[int] = [0]  # the length, filled in below
        for index, array in enumerate(arrays):
            if not array.flags.c_contiguous:
                raise ValueError(f"array {index} of an address table must be C-contiguous.")
            records += [array.ctypes.data, array.ndim, *array.shape]
        self._first_slot = len(records)
        records[0] = len(records) + slots
        self.table = np.array(records + [0] * slots, dtype=np.int64)
        self._arrays = tuple(arrays)  # what keeps every listed address valid

    @property
    def address(self) -> int:
        """The table's own address: the one integer the compiled function is given."""
        return int(self.table.ctypes.data)

    def slot(self, index: int) -> int:
        """The value of extra integer slot ``index``."""
        return int(self.table[self._first_slot + index])
