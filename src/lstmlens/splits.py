"""How one compiled pass shares a batch out over threads.

Batch rows never interact, so a pass can split them into ``chunks`` contiguous blocks that
run the whole time loop on their own (Numba's ``prange``): threads meet once per call, never
per step. A batch too small to split shares out the tiles of units instead, in ``parts``
that meet every step (see :mod:`lstmlens.atomics`). Both the forward loops
(:mod:`lstmlens.sequences`) and backpropagation through time (:mod:`lstmlens.bptt`) take
their rows and parts from here, always as int64, so that each loop compiles once per mode
and dtype whatever the split.
"""

from __future__ import annotations

import numpy as np

from lstmlens.activations import compiled
from lstmlens.tiles import ROWS


def row_range(chunk: int, chunks: int, batch: int) -> tuple[int, int]:
    """Rows of one chunk: contiguous and, when there are enough, a multiple of :data:`ROWS`
    long (except the last chunk), so that only one chunk has rows left over for 1-row tiles."""
    size = -(-batch // chunks)
    if size > ROWS:
        size = -(-size // ROWS) * ROWS
    first = min(batch, chunk * size)
    return first, min(batch, first + size)


row_range_compiled = compiled()(row_range)


@compiled()
def chunk_rows(chunk, chunks, batch):  # type: ignore[no-untyped-def]
    """Rows ``first, last`` of chunk ``chunk`` of ``chunks`` (:func:`row_range`), as int64."""
    # prange's index is unsigned, and int() keeps it so: np.int64 casts it, or every
    # caller is compiled twice (once for each sign)
    return row_range_compiled(np.int64(chunk), np.int64(chunks), np.int64(batch))


@compiled()
def whole_batch(batch):  # type: ignore[no-untyped-def]
    """Rows, part and parts of a pass over the whole batch by one thread, as int64 (literal
    constants would compile :func:`lstmlens.sequences.forward_rows` and
    :func:`lstmlens.bptt.backward_rows` once more), and a
    barrier it never waits at."""
    first, last = chunk_rows(0, 1, batch)
    return first, last, np.int64(0), np.int64(1), np.zeros(2, np.int64)
