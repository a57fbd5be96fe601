"""Register tiles: the fixed-size blocks every compiled LSTM loop is built from.

A tile is ``R`` batch rows x ``C`` columns of running sums that stay in CPU registers while
the loop over the shared dimension ``k`` streams one row of packed weights at a time::

    for k in range(K):             # input features, then short-term memory units
        for c in range(C):         # the tile's columns, contiguous in the packed weights
            w = weights[tile, k, c]
            for r in range(R):     # R batch rows share every weight load
                acc[r, c] += a[row + r, k] * w

LLVM turns that into one broadcast and ``C / lanes`` vector FMAs per row and ``k`` (at the
speed of a good BLAS micro-kernel) only when three things hold, which is why the code is
written as it is:

* ``R`` and ``C`` are compile-time constants: the functions here are ``@overload``-ed and
  insist on integer literals, so each (R, C) pair is compiled on its own and inlined
  (and ``R * C`` is large enough -- 64 elements or more -- that LLVM vectorises the loop
  over ``c`` instead of unrolling it into scalar code first);
* the sums live in a stack buffer (:func:`stack_like`) that never escapes, so once the
  constant loops are unrolled LLVM keeps them in registers;
* the loop over ``c`` sits outside the loop over ``r``: it is the one that is vectorised;
* on CPUs with AVX-512 the enclosing kernel asks for 512-bit vectors
  (:func:`lstmlens.cpu.wide_vectors`): in LLVM's default 256-bit ones the 4 x 64 sums of a
  tile take all 32 registers and spill.

Two more habits keep the loops fast. Results go to stack buffers first and only then to
the output arrays: a loop that reads several arrays and writes several others needs
run-time overlap checks that LLVM gives up on, while a loop writing only to the stack
vectorises. And arrays are indexed in full (``state_c[slot, b, j]``), never through views
made inside the tiles: every Numba view costs an atomic reference-count increment and
decrement, which inside a tile cost more than the arithmetic of a small layer.

Column layout ("tile layout", see :mod:`lstmlens.layouts`): the 4H gate axis is regrouped
so that the ``4U`` columns of tile ``j`` are the input gate i, forget gate f, candidate
memory g and output gate o of the ``U`` units ``jU .. jU + U - 1``. The whole step of those
units -- weighted sums, gates, new long-term and short-term memory -- then finishes inside
one tile, while its sums are still in registers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from lstmlens.activations import KERNEL_OPTIONS, one_like, percent, squash
from lstmlens.streaming_stores import STREAMING_MIN_BYTES, VECTOR_STORES_MIN_BYTES, store_lanes

#: Batch rows per tile on the main path (the remainder rows use tiles of one row). Four
#: rows x 64 float32 columns is 16 vector registers of sums, half of AVX-512's 32.
ROWS = 4

#: Cast for an index that runs along a contiguous axis. Numba adds ``n`` to a negative
#: signed index (Python's wrap-around), and LLVM then cannot tell that ``a[b, t, j + u]``
#: over ``u`` are neighbours: it emitted gathers and scatters, element by element, where a
#: vector load or store does. An unsigned index has no wrap-around. The multiply-add loops
#: cast every index for a second reason: each signed one costs a shift, an and, an add and
#: a multiply per load to handle the negative index that never comes, and in the dL/dW
#: sums these integer instructions outnumbered the 8 vector multiply-adds of a step of the
#: loop. Cast, they ran at 29 instead of 22 GFLOP/s on one core of a Zen 1 VM.
unsigned = numba.uint64


@intrinsic
def stack_like(typingctx: Any, size: Any, like: Any) -> Any:
    """A pointer to ``size`` (an integer literal) uninitialised elements of ``like``'s dtype
    on the stack of the enclosing compiled function (allocated once, in its entry block)."""
    if not isinstance(size, types.IntegerLiteral):
        return None
    count = size.literal_value
    element = like.dtype

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return cgutils.alloca_once(builder, context.get_value_type(element), size=count)

    return types.CPointer(element)(size, like), codegen


def compiled_only(stub: Callable[..., None]) -> Any:
    """Mark a function that exists only as a name for ``@overload``: its body refuses to run
    in Python, and Numba compiles the overload's implementation in its place."""
    return stub


def literal(value: Any) -> int | None:
    """The value of an integer-literal Numba type, None for any other type (Numba types a
    constant argument first as a literal, then as a plain integer; an overload returning
    None for the plain one makes the literal the only match)."""
    if isinstance(value, types.IntegerLiteral):
        return int(value.literal_value)
    return None


# ---------------------------------------------------------------------------- forward
@numba.njit(inline="always")
def alternate(t, index, first, last):  # type: ignore[no-untyped-def]
    """The tile to compute ``index``-th in step ``t``: tiles ``first .. last - 1`` in order in
    even steps, backwards in odd ones. Tiles are independent units, so the results are the
    same; a step then starts on the weights the step before read last, still in cache."""
    return last - 1 - (index - first) if t % 2 == 1 else index


@compiled_only
def forward_tile(rows, units, mode, staged, t, row, tile, k_first, k_last, partial, inputs,  # type: ignore[no-untyped-def]
                 weights, bias, state_h, state_c, seq_h, seq_c, seq_gates, input_part,
                 memory_part):
    """Step ``t`` of batch rows ``row .. row + rows - 1`` for the units of one tile.

    inputs (B, T, I) x_t; weights (tiles, I + H, 4U) and bias (tiles, 4U) in tile layout;
    state_h, state_c (2, B, H): h_{t-1}, c_{t-1} in slot ``t % 2``, h_t, c_t written to the
    other slot. Also written, each only when its time axis is not empty: seq_h, seq_c
    (B, T, H) h_t and c_t. ``mode``, an integer literal, compiles in what else is kept:
    0 nothing (forecasting), 1 the gates i, f, g, o in seq_gates (B, T, 4H) for backward,
    2 also input_part and memory_part (B, T, 4H), ``W_ih x_t`` and ``W_hh h_{t-1}``, for
    explanation traces. Compiled apart because such code, even never run, slowed the
    forecasting path by a fifth. Gate axes of the outputs are in PyTorch's order.

    ``staged``, an integer literal, 1 to sum the short-term memory part over units
    ``k_first .. k_last - 1`` of h_{t-1} only (0: all of them; k_first, k_last and partial
    are then unused). A stage that does not end at H leaves the running sums in partial
    (B, 2, 4U) -- input part, memory part so far -- for the next stage to go on from, and
    only the last stage computes the gates and memories. The sums are the same, in the same
    order, as in one stage; the stages let a slice of the tile's weights stay in the L1
    cache while every row group of the batch goes through it (see
    :data:`lstmlens.sequences.STAGE_BYTES`).
    """
    raise NotImplementedError("compiled only: call from a Numba function")


@overload(forward_tile, inline="always", jit_options=KERNEL_OPTIONS)
def _forward_tile(rows, units, mode, staged, t, row, tile, k_first, k_last, partial, inputs,  # type: ignore[no-untyped-def]
                  weights, bias, state_h, state_c, seq_h, seq_c, seq_gates, input_part,
                  memory_part):
    R, U, MODE, STAGED = literal(rows), literal(units), literal(mode), literal(staged)
    if R is None or U is None or MODE is None or STAGED is None:
        return None
    KEEP, TRACE = MODE >= 1, MODE >= 2
    C = 4 * U  # columns: i, f, g, o of U units
    BLOCK = R * C

    def impl(rows, units, mode, staged, t, row, tile, k_first, k_last, partial, inputs,  # type: ignore[no-untyped-def]
             weights, bias, state_h, state_c, seq_h, seq_c, seq_gates, input_part,
             memory_part):
        features = inputs.shape[2]
        hidden = state_h.shape[2]
        previous, current = t % 2, 1 - t % 2  # slots of h_{t-1}, c_{t-1} and of h_t, c_t
        first_k, last_k = (k_first, k_last) if STAGED else (0, hidden)
        acc = numba.carray(stack_like(BLOCK, weights), (R, C))
        part = numba.carray(stack_like(BLOCK, weights), (R, C))
        if first_k == 0:
            # W_ih x_t: the input part of the weighted sums
            for r in range(R):
                for c in range(C):
                    acc[r, c] = 0
            for k in range(features):
                for c in range(C):
                    w = weights[unsigned(tile), unsigned(k), unsigned(c)]
                    for r in range(R):
                        acc[r, c] += inputs[unsigned(row + r), unsigned(t), unsigned(k)] * w
            for r in range(R):
                for c in range(C):
                    part[r, c] = acc[r, c]
                    acc[r, c] = 0
        else:  # a later stage: go on from the sums the earlier ones left
            for r in range(R):
                for c in range(C):
                    part[r, c] = partial[row + r, 0, c]
                    acc[r, c] = partial[row + r, 1, c]
        # W_hh h_{t-1}: the short-term memory part
        for k in range(first_k, last_k):
            for c in range(C):
                w = weights[unsigned(tile), unsigned(features + k), unsigned(c)]
                for r in range(R):
                    acc[r, c] += (state_h[unsigned(previous), unsigned(row + r), unsigned(k)]
                                  * w)
        if last_k < hidden:  # not the last stage
            for r in range(R):
                for c in range(C):
                    partial[row + r, 0, c] = part[r, c]
                    partial[row + r, 1, c] = acc[r, c]
            return
        # z_t = input part + memory part + bias, in this order everywhere (see trace.py)
        total = numba.carray(stack_like(BLOCK, weights), (R, C))
        for r in range(R):
            for c in range(C):
                total[r, c] = (part[r, c] + acc[r, c]) + bias[tile, c]
        memory = numba.carray(stack_like(BLOCK, weights), (R, C))
        if TRACE:  # explanation traces keep the two parts apart
            for r in range(R):
                for c in range(C):
                    memory[r, c] = acc[r, c]

        first_unit = tile * U
        valid = min(U, hidden - first_unit)  # the last tile may be padding in part
        # All U lanes are computed, padding included (zeros in, harmless values out), so
        # the loop has a constant trip count and vectorises even for a partial last tile;
        # only the valid lanes are read and stored.
        previous_c = numba.carray(stack_like(BLOCK, weights), (R, U))
        new_c = numba.carray(stack_like(BLOCK, weights), (R, U))
        new_h = numba.carray(stack_like(BLOCK, weights), (R, U))
        gates = numba.carray(stack_like(BLOCK, weights), (R, C))
        for r in range(R):
            for u in range(U):  # masked loads, as in _store_tile
                previous_c[r, u] = (state_c[previous, row + r, unsigned(first_unit + u)]
                                    if u < valid else 0)
        for r in range(R):
            for u in range(U):
                input_gate = percent(total[r, u])  # i_t: % of the potential memory to remember
                forget_gate = percent(total[r, U + u])  # f_t: % of the long-term memory kept
                candidate_memory = squash(total[r, 2 * U + u])  # g_t: potential memory
                output_gate = percent(total[r, 3 * U + u])  # o_t: % of the memory let out
                long_term = forget_gate * previous_c[r, u] + input_gate * candidate_memory
                new_c[r, u] = long_term  # c_t = f_t * c_{t-1} + i_t * g_t
                new_h[r, u] = output_gate * squash(long_term)  # h_t = o_t * tanh(c_t)
                if KEEP:  # a constant: the forecasting path has none of this
                    gates[r, u] = input_gate
                    gates[r, U + u] = forget_gate
                    gates[r, 2 * U + u] = candidate_memory
                    gates[r, 3 * U + u] = output_gate
        # Full tiles store with a constant count (vector stores); a partial one lane by lane.
        if valid == U:
            _store_tile(U, R, U, MODE, t, row, first_unit, current, new_c, new_h, gates, part,
                        memory, state_h, state_c, seq_h, seq_c, seq_gates, input_part,
                        memory_part)
        else:
            _store_tile(valid, R, U, MODE, t, row, first_unit, current, new_c, new_h, gates,
                        part, memory, state_h, state_c, seq_h, seq_c, seq_gates, input_part,
                        memory_part)

    return impl


@compiled_only
def _store_tile(count, rows, units, mode, t, row, first_unit, current, new_c, new_h, gates,  # type: ignore[no-untyped-def]
                part, memory, state_h, state_c, seq_h, seq_c, seq_gates, input_part,
                memory_part):
    """Store the first ``count`` lanes of a forward tile's results (see forward_tile).

    Every loop runs over all ``U`` lanes and tests ``u < count``: LLVM makes masked vector
    stores of that, while a loop of run-time length ``count`` became a call of memcpy.
    A training pass's large records of whole tiles go out in one vector store per run
    instead, streaming past the caches when larger still (:mod:`lstmlens.streaming_stores`).
    """
    raise NotImplementedError("compiled only: call from a Numba function")


@overload(_store_tile, inline="always", jit_options=KERNEL_OPTIONS)
def _store_tile_impl(count, rows, units, mode, t, row, first_unit, current, new_c, new_h,  # type: ignore[no-untyped-def]
                     gates, part, memory, state_h, state_c, seq_h, seq_c, seq_gates,
                     input_part, memory_part):
    R, U, MODE = literal(rows), literal(units), literal(mode)
    if R is None or U is None or MODE is None:
        return None
    KEEP, TRACE = MODE >= 1, MODE >= 2
    # Records for backward from a whole tile go out in vector stores, and past a size in
    # streaming ones (see lstmlens.streaming_stores).
    STREAM = (MODE == 1 and literal(count) == U
              and all(kept.layout == "C" for kept in (seq_h, seq_c, seq_gates)))

    def impl(count, rows, units, mode, t, row, first_unit, current, new_c, new_h, gates, part,  # type: ignore[no-untyped-def]
             memory, state_h, state_c, seq_h, seq_c, seq_gates, input_part, memory_part):
        hidden = state_h.shape[2]
        steps = seq_h.shape[1]
        record_bytes = seq_gates.size * seq_gates.itemsize
        vectors = (STREAM and steps > 0  # (seq_h, seq_c and seq_gates all kept)
                   and record_bytes >= VECTOR_STORES_MIN_BYTES)
        streaming = record_bytes >= STREAMING_MIN_BYTES
        for r in range(R):
            b = row + r
            for u in range(U):
                if u < count:
                    state_c[current, b, unsigned(first_unit + u)] = new_c[r, u]
            for u in range(U):
                if u < count:
                    state_h[current, b, unsigned(first_unit + u)] = new_h[r, u]
            if vectors:
                at = (b * steps + t) * hidden + first_unit
                store_lanes(seq_h, at, new_h, r * U, U, streaming)
                store_lanes(seq_c, at, new_c, r * U, U, streaming)
                for gate in range(4):
                    store_lanes(seq_gates, 4 * (at - first_unit) + gate * hidden + first_unit,
                                gates, r * 4 * U + gate * U, U, streaming)
                continue
            if seq_h.shape[1] > 0:
                for u in range(U):
                    if u < count:
                        seq_h[b, t, unsigned(first_unit + u)] = new_h[r, u]
                for u in range(U):
                    if u < count:
                        seq_c[b, t, unsigned(first_unit + u)] = new_c[r, u]
            if KEEP:
                for gate in range(4):
                    for u in range(U):
                        if u < count:
                            lane = unsigned(gate * hidden + first_unit + u)
                            seq_gates[b, t, lane] = gates[r, gate * U + u]
            if TRACE:
                for gate in range(4):
                    for u in range(U):
                        if u < count:
                            column = unsigned(gate * hidden + first_unit + u)
                            input_part[b, t, column] = part[r, gate * U + u]
                            memory_part[b, t, column] = memory[r, gate * U + u]

    return impl


# ---------------------------------------------------------------------------- backward
@compiled_only
def gate_gradient_row(units, t, b, first_tile, last_tile, gates, seq_c, c0, grad_h,  # type: ignore[no-untyped-def]
                      grad_h_outside, grad_c, grad_z):
    """Backward through step ``t`` of batch row ``b`` for the units of tiles ``first_tile ..
    last_tile - 1``, from dL/dh_t to dL/dz_t.

    gates (B, T, 4H) i, f, g, o; seq_c (B, T, H) c_t; c0 (B, H); grad_h (B, H) dL/dh_t
    through the recurrence; grad_h_outside (B, T, H) dL/dh_t from outside it; grad_c (B, H)
    dL/dc_t on entry, dL/dc_{t-1} on exit. Writes dL/dz_t into grad_z (tiles, T, B, 4U),
    tile-major and step-major (zero in padding columns).
    """
    raise NotImplementedError("compiled only: call from a Numba function")


@overload(gate_gradient_row, inline="always", jit_options=KERNEL_OPTIONS)
def _gate_gradient_row(units, t, b, first_tile, last_tile, gates, seq_c, c0, grad_h,  # type: ignore[no-untyped-def]
                       grad_h_outside, grad_c, grad_z):
    U = literal(units)
    if U is None:
        return None
    HALF = U // 2

    def impl(units, t, b, first_tile, last_tile, gates, seq_c, c0, grad_h, grad_h_outside,  # type: ignore[no-untyped-def]
             grad_c, grad_z):
        hidden = seq_c.shape[2]
        full_tiles = min(last_tile, hidden // U)
        for tile in range(first_tile, full_tiles):  # a constant count: vector loads
            _gate_gradient_units(U, units, t, b, tile, gates, seq_c, c0, grad_h,
                                 grad_h_outside, grad_c, grad_z)
        for tile in range(max(first_tile, full_tiles), last_tile):  # the partial last tile
            count = hidden - tile * U
            if count == HALF:
                # Half a tile (8 units, 24, 40, ...) as a constant too: plain vector loads
                # and stores of the lanes that are there. With the count known only at run
                # time each of the 9 fields took masked loads and dL/dc_{t-1} went out lane
                # by lane: this phase cost twice a full tile's. Interleaved in one process
                # on two threads of a Zen 1 VM (96 steps), the same bits, this phase alone
                # 2.3-2.4x faster at 8 units and 1, 32 or 256 rows (0.25 -> 0.11 ms at 32),
                # 1.5-1.7x at 24 and 40 units, float64 1.1-1.4x; a whole training step at 8
                # units 1.03-1.04x (32 and 256 rows), near the noise of such comparisons.
                _gate_gradient_units(HALF, units, t, b, tile, gates, seq_c, c0, grad_h,
                                     grad_h_outside, grad_c, grad_z)
            else:
                _gate_gradient_units(count, units, t, b, tile, gates, seq_c, c0, grad_h,
                                     grad_h_outside, grad_c, grad_z)

    return impl


@compiled_only
def _gate_gradient_units(count, units, t, b, tile, gates, seq_c, c0, grad_h, grad_h_outside,  # type: ignore[no-untyped-def]
                         grad_c, grad_z):
    raise NotImplementedError("compiled only: call from a Numba function")


@overload(_gate_gradient_units, inline="always", jit_options=KERNEL_OPTIONS)
def _gate_gradient_units_impl(count, units, t, b, tile, gates, seq_c, c0, grad_h,  # type: ignore[no-untyped-def]
                              grad_h_outside, grad_c, grad_z):
    U = literal(units)
    if U is None:
        return None
    C = 4 * U

    def impl(count, units, t, b, tile, gates, seq_c, c0, grad_h, grad_h_outside, grad_c,  # type: ignore[no-untyped-def]
             grad_z):
        hidden = seq_c.shape[2]
        first_unit = tile * U
        one = one_like(gates[0, 0, 0])
        # Gathered into zero-padded lanes first: the arithmetic then has a constant trip
        # count and vectorises for a partial last tile too (``count`` < U). One buffer per
        # field: a 2-D stack buffer indexed by a run-time lane was several times slower.
        input_gate = numba.carray(stack_like(U, gates), (U,))
        forget_gate = numba.carray(stack_like(U, gates), (U,))
        candidate_memory = numba.carray(stack_like(U, gates), (U,))
        output_gate = numba.carray(stack_like(U, gates), (U,))
        long_term = numba.carray(stack_like(U, gates), (U,))
        previous_c = numba.carray(stack_like(U, gates), (U,))
        recurrent = numba.carray(stack_like(U, gates), (U,))
        outside = numba.carray(stack_like(U, gates), (U,))
        incoming_c = numba.carray(stack_like(U, gates), (U,))
        for u in range(U):
            # Lanes past ``count`` read as zero: a select, not a shorter loop, which LLVM
            # compiled to a call of memcpy per buffer (masked vector loads this way).
            j = first_unit + u
            inside = u < count
            input_gate[u] = gates[b, t, unsigned(j)] if inside else 0
            forget_gate[u] = gates[b, t, unsigned(hidden + j)] if inside else 0
            candidate_memory[u] = gates[b, t, unsigned(2 * hidden + j)] if inside else 0
            output_gate[u] = gates[b, t, unsigned(3 * hidden + j)] if inside else 0
            long_term[u] = seq_c[b, t, unsigned(j)] if inside else 0
            if t == 0:
                previous_c[u] = c0[b, unsigned(j)] if inside else 0
            else:
                previous_c[u] = seq_c[b, t - 1, unsigned(j)] if inside else 0
            recurrent[u] = grad_h[b, unsigned(j)] if inside else 0
            outside[u] = grad_h_outside[b, t, unsigned(j)] if inside else 0
            incoming_c[u] = grad_c[b, unsigned(j)] if inside else 0
        dz = numba.carray(stack_like(C, gates), (C,))
        new_grad_c = numba.carray(stack_like(U, gates), (U,))
        for u in range(U):
            i_t, f_t, g_t, o_t = input_gate[u], forget_gate[u], candidate_memory[u], output_gate[u]
            squashed = squash(long_term[u])  # tanh(c_t)
            grad_short = recurrent[u] + outside[u]  # total dL/dh_t
            # c_t reaches the loss through the next step and through h_t = o_t * tanh(c_t).
            grad_long = incoming_c[u] + grad_short * o_t * (one - squashed * squashed)
            dz[u] = grad_long * g_t * i_t * (one - i_t)
            dz[U + u] = grad_long * previous_c[u] * f_t * (one - f_t)
            dz[2 * U + u] = grad_long * i_t * (one - g_t * g_t)
            dz[3 * U + u] = grad_short * squashed * o_t * (one - o_t)
            new_grad_c[u] = grad_long * f_t  # dL/dc_{t-1}
        for c in range(C):  # padding lanes hold exact zeros: every term has a zero factor
            grad_z[tile, t, b, c] = dz[c]
        for u in range(U):
            if u < count:  # masked stores, as in _store_tile
                grad_c[b, unsigned(first_unit + u)] = new_grad_c[u]

    return impl


@compiled_only
def product_tile(rows, width, row, block, t, a, weights, out):  # type: ignore[no-untyped-def]
    """``out[row + r, block * width + c] = sum_{j, k} a[j, t, row + r, k] * weights[block, ., c]``.

    The backward products dL/dh_{t-1} = dz_t W_hh and dL/dx_t = dz_t W_ih: a (tiles, T, n, 4U)
    holds dz tile-major, weights (column blocks, tiles * 4U, width) come from
    :func:`lstmlens.layouts.pack_backward`, out (n, m) with m <= column blocks * width
    (for dL/dx_t all (step, row) pairs are one axis: a (tiles, 1, T * B, 4U), t = 0).
    """
    raise NotImplementedError("compiled only: call from a Numba function")


@overload(product_tile, inline="always", jit_options=KERNEL_OPTIONS)
def _product_tile(rows, width, row, block, t, a, weights, out):  # type: ignore[no-untyped-def]
    R, W = literal(rows), literal(width)
    if R is None or W is None:
        return None
    BLOCK = R * W

    def impl(rows, width, row, block, t, a, weights, out):  # type: ignore[no-untyped-def]
        acc = numba.carray(stack_like(BLOCK, weights), (R, W))
        for r in range(R):
            for c in range(W):
                acc[r, c] = 0
        columns = a.shape[3]
        for j in range(a.shape[0]):
            for k in range(columns):
                for c in range(W):
                    w = weights[unsigned(block), unsigned(j * columns + k), unsigned(c)]
                    for r in range(R):
                        acc[r, c] += a[unsigned(j), unsigned(t), unsigned(row + r),
                                       unsigned(k)] * w
        first = block * W
        valid = min(W, out.shape[1] - first)
        for r in range(R):
            for c in range(W):
                if c < valid:  # masked stores, as in _store_tile
                    out[row + r, unsigned(first + c)] = acc[r, c]

    return impl
