"""Whole-tile vector stores and streaming stores of the per-step records."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from lstmlens import kernels, memory, streaming_stores
from lstmlens.network import LSTMNetwork
from lstmlens.streaming_stores import store_fence, store_lanes


@numba.njit
def _copy_run(destination, at, source, start, streaming):  # type: ignore[no-untyped-def]
    store_lanes(destination, at, source, start, 16, streaming)
    store_fence()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("at", [0, 16, 1, 3], ids=["aligned", "aligned-later", "off-1", "off-3"])
@pytest.mark.parametrize("streaming", [True, False])
def test_store_lanes_copies_one_run_aligned_or_not(dtype: type[np.floating], at: int,
                                                   streaming: bool) -> None:
    size = memory.ALIGNED_MIN_BYTES // np.dtype(dtype).itemsize
    destination = memory.reusable("test.lanes", (size,), np.dtype(dtype))
    assert destination.ctypes.data % streaming_stores.LINE_BYTES == 0
    destination[:] = -1
    source = np.arange(40, dtype=dtype).reshape(2, 20)
    _copy_run(destination, at, source, 21, streaming)
    np.testing.assert_array_equal(destination[at:at + 16], source.ravel()[21:37])
    assert (destination[:at] == -1).all() and (destination[at + 16:] == -1).all()


# (batch, steps, hidden, dtype): gate records past the vector-store and the streaming sizes,
# a partly padded last tile (40 units), rows left over from the 4-row tiles (42), and
# 16 tiles (256 units, split over the threads).
LARGE = [(48, 24, 64, np.float32), (64, 32, 64, np.float32), (32, 32, 40, np.float64),
         (42, 48, 40, np.float64), (32, 24, 256, np.float32)]


@pytest.mark.parametrize("batch,steps,hidden,dtype", LARGE)
def test_large_training_records_equal_the_ones_of_the_trace_kernel(
    batch: int, steps: int, hidden: int, dtype: type[np.floating]
) -> None:
    """The records of a training forward pass (vector and streaming stores) against the
    explanation-trace kernel, which stores lane by lane: the same sums in the same order."""
    network = LSTMNetwork.initialize(3, hidden, dtype=dtype, random_state=hidden)
    x = np.random.default_rng(steps).standard_normal((batch, steps, 3)).astype(dtype)
    (record,) = network.forward(x, keep_for_backward=True).records
    assert record.gates.nbytes >= streaming_stores.VECTOR_STORES_MIN_BYTES  # the path tested
    if record.gates.nbytes >= streaming_stores.STREAMING_MIN_BYTES:
        for kept in (record.gates, record.short_term_memory, record.long_term_memory):
            assert kept.ctypes.data % streaming_stores.LINE_BYTES == 0  # so they stream
    zeros = np.zeros((batch, hidden), dtype)
    traced = kernels.layer_forward(x, zeros, zeros, *network._layer_parameters(0), True)
    for name in ("gates", "short_term_memory", "long_term_memory"):
        np.testing.assert_array_equal(getattr(record, name), getattr(traced, name), err_msg=name)


def test_aligned_arrays_are_large_enough_for_every_streamed_record() -> None:
    """h_t and c_t records are a quarter of the gate record; they must be aligned too."""
    assert memory.ALIGNED_MIN_BYTES <= streaming_stores.STREAMING_MIN_BYTES // 4
