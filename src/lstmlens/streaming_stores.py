"""Stores that bypass the caches, for per-step records written once and read much later.

A forward pass that keeps its gates for backward writes, every step, 6H values per batch
row (the gates i, f, g, o, c_t and h_t) that nothing reads again until the backward pass.
Ordinary stores first fetch every line they write into the L1 cache (a read for ownership),
and the stream of fresh lines pushes the tile's weights out of L1 and L2. Streaming
(non-temporal) stores write whole lines to memory without either.

:func:`store_lanes` copies a run of values from a stack buffer to an array in one vector
store, non-temporal when the caller asks and the destination is 64-byte aligned (an aligned
vector store is what the CPU requires of it; :func:`lstmlens.memory.reusable` aligns the
records), an ordinary one otherwise. Below a few megabytes the records are better kept in
cache for the backward pass, which reads them next (see :data:`STREAMING_MIN_BYTES`).
Non-temporal stores are weakly ordered: a kernel that made them calls :func:`store_fence`
before it returns, so that whoever reads the records next sees them.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

#: The alignment a non-temporal vector store needs: one cache line (and one AVX-512 vector).
LINE_BYTES = 64
#: Size of the gate record (B x T x 4H values) from which a forward pass that keeps the gates
#: writes the records of whole tiles in vector stores (:func:`store_lanes`), and from which
#: those stores are non-temporal. Whole training steps in one process, interleaved, two
#: threads of a Zen 5 VM (1 MiB L2 per core), ten rounds, against lane-by-lane stores:
#: 1.10-1.19x for records of 3-100 MB (32-256 units, 32-256 rows, 24-96 steps), 1.03x at
#: 1.6 MB (vector stores only). Non-temporal against ordinary vector stores: 1.06-1.23x
#: from 3 MB, 0.94x at 1.6 MB; vector stores for all sizes: 0.97-0.99x below 1 MB.
VECTOR_STORES_MIN_BYTES = 1 << 20
STREAMING_MIN_BYTES = 2 << 20


@intrinsic
def store_lanes(typingctx: Any, destination: Any, at: Any, source: Any, start: Any,
                count: Any, streaming: Any) -> Any:
    """``destination.flat[at : at + count] = source.flat[start : start + count]`` for
    C-contiguous arrays of one dtype, ``count`` an integer literal, in one vector store:
    non-temporal when ``streaming`` is true and the destination address is
    :data:`LINE_BYTES`-aligned."""
    if not (isinstance(count, types.IntegerLiteral) and isinstance(destination, types.Array)
            and isinstance(source, types.Array) and destination.dtype == source.dtype
            and destination.layout == "C" and source.layout == "C"):
        return None
    lanes = count.literal_value

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        element = context.get_value_type(signature.args[0].dtype)
        vector = ir.VectorType(element, lanes)
        target = context.make_array(signature.args[0])(context, builder, args[0])
        origin = context.make_array(signature.args[2])(context, builder, args[2])
        itemsize = context.get_abi_sizeof(element)
        value = builder.load(builder.bitcast(builder.gep(origin.data, [args[3]]),
                                             vector.as_pointer()), align=itemsize)
        pointer = builder.bitcast(builder.gep(target.data, [args[1]]), vector.as_pointer())
        address = builder.ptrtoint(pointer, ir.IntType(64))
        offset = builder.and_(address, ir.Constant(ir.IntType(64), LINE_BYTES - 1))
        aligned = builder.icmp_unsigned("==", offset, ir.Constant(ir.IntType(64), 0))
        wanted = context.cast(builder, args[5], signature.args[5], types.boolean)
        with builder.if_else(builder.and_(aligned, wanted), likely=True) as (bypass, ordinary):
            with bypass:
                store = builder.store(value, pointer, align=LINE_BYTES)
                store.set_metadata("nontemporal", builder.module.add_metadata(
                    [ir.Constant(ir.IntType(32), 1)]))
            with ordinary:
                builder.store(value, pointer, align=itemsize)
        return context.get_dummy_value()

    return types.none(destination, at, source, start, count, streaming), codegen


@intrinsic
def store_fence(typingctx: Any) -> Any:
    """Order every earlier store, non-temporal ones included, before every later one
    (x86 ``sfence``; a no-op fence elsewhere)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.none(), codegen
