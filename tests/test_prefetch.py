"""Software prefetch: a hint that reaches the compiled code and changes nothing else."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from lstmlens.prefetch import prefetch, prefetch_run


@numba.njit
def _touch_all(values, write):  # type: ignore[no-untyped-def]
    """Prefetch every line of ``values`` (and one element past its end), then sum it."""
    if write:
        prefetch_run(values, 0, values.size, True)
    else:
        prefetch_run(values, 0, values.size, False)
    prefetch(values, values.size, False)  # past the end: a hint never faults
    return values.sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_prefetch_emits_the_hint_and_leaves_the_values_alone(dtype: type[np.floating],
                                                             write: bool) -> None:
    values = np.arange(1, 40, dtype=dtype)  # not a whole number of lines
    before = values.copy()
    assert _touch_all(values, write) == before.sum()
    np.testing.assert_array_equal(values, before)
    signature = next(s for s in _touch_all.signatures if s[0].dtype == numba.from_dtype(dtype))
    assert "@llvm.prefetch" in _touch_all.inspect_llvm(signature)


def test_a_strided_array_gets_no_hint_and_the_direction_must_be_a_literal() -> None:
    @numba.njit
    def strided(values):  # type: ignore[no-untyped-def]
        prefetch(values[::2], 0, False)
        return values[0]

    @numba.njit
    def direction_at_run_time(values, write):  # type: ignore[no-untyped-def]
        prefetch(values, 0, write)

    values = np.ones(8)
    assert strided(values) == 1.0  # compiles and runs: the kernels take any layout
    assert "@llvm.prefetch" not in strided.inspect_llvm(strided.signatures[0])
    with pytest.raises(numba.core.errors.TypingError):
        direction_at_run_time(values, bool(values.size))
