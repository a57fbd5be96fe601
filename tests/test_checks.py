"""The compiled checks of every forward pass: finite values, weights unchanged since packing."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlens import checks
from lstmlens.network import LSTMNetwork


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_one_bad_value_anywhere(dtype: type[np.floating], bad: float) -> None:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((5, 7, 3)).astype(dtype)
    assert checks.all_finite(values)
    for flat_index in (0, 51, values.size - 1):
        spoiled = values.copy()
        spoiled.flat[flat_index] = bad
        assert not checks.all_finite(spoiled)
        assert not checks.all_finite(spoiled.transpose(2, 0, 1))  # not C-contiguous
    assert checks.all_finite(np.full((2, 2, 2), np.finfo(dtype).max, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_bits_finds_one_changed_bit_anywhere(dtype: type[np.floating]) -> None:
    size = 3 * checks.BLOCK + 5
    values = np.random.default_rng(1).standard_normal(size).astype(dtype)
    assert checks.same_bits(checks.bits(values), checks.bits(values.copy()))
    for index in (0, checks.BLOCK - 1, checks.BLOCK, size - 1):
        changed = values.copy()
        changed[index] = np.nextafter(changed[index], np.inf)  # the smallest change there is
        assert not checks.same_bits(checks.bits(values), checks.bits(changed))
    assert not checks.same_bits(checks.bits(values), checks.bits(values[:-1].copy()))


def test_same_bits_compares_bits_not_numbers() -> None:
    zero, negative_zero = np.zeros(3, np.float32), np.full(3, -0.0, np.float32)
    assert not checks.same_bits(checks.bits(zero), checks.bits(negative_zero))
    nan = np.full(3, np.nan, np.float32)
    assert checks.same_bits(checks.bits(nan), checks.bits(nan.copy()))


@pytest.mark.parametrize("name", ["weight_ih_l0", "weight_hh_l1", "bias_hh_l1"])
def test_a_weight_edited_in_place_after_a_forward_pass_is_used_by_the_next(name: str) -> None:
    network = LSTMNetwork.initialize(3, 20, num_layers=2, dtype=np.float32, random_state=0)
    x = np.random.default_rng(2).standard_normal((2, 5, 3)).astype(np.float32)
    before = network.forward(x).output
    weights = network.parameters[name]
    weights.flat[-1] += np.float32(0.5)  # in place: no assignment, no version change
    edited = network.forward(x).output
    assert not np.array_equal(edited, before)
    fresh = LSTMNetwork(network.parameters)  # packs the edited weights from scratch
    np.testing.assert_array_equal(edited, fresh.forward(x).output)
