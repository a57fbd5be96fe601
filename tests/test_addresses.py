"""Address tables: arrays handed to compiled code through one integer."""

from __future__ import annotations

import gc
import weakref

import numba
import numpy as np
import pytest

from lstmlens.addresses import AddressTable, array_at, table_at


@numba.njit
def _rebuild_and_write(x, address):  # type: ignore[no-untyped-def]
    """Rebuild the two arrays of the table, write through them, bump the slot."""
    table = table_at(address)
    first, at = array_at(table, 1, 3, x)
    second, at = array_at(table, at, 1, x)
    first[1, 2, 3] += 10.0
    second[-1] = first.sum()
    table[at] = table[at] + 1  # the slot after the records
    return first.shape, second.shape


@numba.njit
def _rebuild_with_wrong_rank(x, address):  # type: ignore[no-untyped-def]
    table = table_at(address)
    first, at = array_at(table, 1, 2, x)  # the record says 3 dimensions
    return first.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_code_sees_and_changes_the_listed_arrays(dtype: type[np.floating]) -> None:
    rng = np.random.default_rng(0)
    first = rng.standard_normal((2, 3, 4)).astype(dtype)
    second = np.zeros(5, dtype)
    table = AddressTable([first, second], slots=1)
    expected_first = first.copy()
    expected_first[1, 2, 3] += 10.0
    for calls in (1, 2):
        shapes = _rebuild_and_write(first[0, 0], table.address)
        assert shapes == ((2, 3, 4), (5,))
        assert table.slot(0) == calls  # writes to the table itself are kept
    expected_first[1, 2, 3] += 10.0
    np.testing.assert_array_equal(first, expected_first)
    assert second[-1] == pytest.approx(float(expected_first.sum()), rel=1e-6)


def test_a_record_of_another_rank_is_refused() -> None:
    values = np.zeros((2, 3, 4))
    table = AddressTable([values])
    with pytest.raises(ValueError, match="number of dimensions"):
        _rebuild_with_wrong_rank(values[0, 0], table.address)


def test_only_contiguous_arrays_can_be_listed() -> None:
    with pytest.raises(ValueError, match="array 1 .* C-contiguous"):
        AddressTable([np.zeros(3), np.zeros((4, 4))[:, 1]])


def test_the_table_keeps_its_arrays_alive() -> None:
    values = np.arange(6.0).reshape(2, 3)
    alive = weakref.ref(values)
    table = AddressTable([values])
    del values
    gc.collect()
    assert alive() is not None  # what the listed address points at is still there
    del table
    gc.collect()
    assert alive() is None
