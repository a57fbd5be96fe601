"""Losses: values from their definitions, gradients by central finite differences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from lstmlens import losses

Loss = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def _finite_difference(loss: Loss, prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    eps = 1e-6
    grad = np.zeros_like(prediction)
    for index in np.ndindex(prediction.shape):
        up, down = prediction.copy(), prediction.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (loss(up, target)[0] - loss(down, target)[0]) / (2 * eps)
    return grad


def _pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    target = rng.uniform(0.5, 2.0, size=(4, 3))
    # Keep every residual away from 0 so MAE/pinball/sMAPE kinks are not straddled.
    offset = rng.choice([-1.0, 1.0], size=target.shape) * rng.uniform(0.05, 0.5, target.shape)
    return target + offset, target


@pytest.mark.parametrize(
    "loss",
    [
        losses.mse,
        losses.mae,
        losses.huber,
        losses.smape,
        lambda p, t: losses.pinball(p, t, 0.1),
        lambda p, t: losses.pinball(p, t, 0.9),
    ],
    ids=["mse", "mae", "huber", "smape", "pinball-0.1", "pinball-0.9"],
)
def test_gradient_matches_finite_differences(loss: Loss) -> None:
    prediction, target = _pair()
    _, grad = loss(prediction, target)
    np.testing.assert_allclose(grad, _finite_difference(loss, prediction, target), atol=1e-7)


def test_values_follow_the_definitions() -> None:
    prediction = np.array([[1.0, 3.0], [2.0, 0.0]])
    target = np.array([[2.0, 1.0], [2.0, 1.0]])
    # residuals -1, 2, 0, -1
    assert losses.mse(prediction, target)[0] == pytest.approx((1 + 4 + 0 + 1) / 4)
    assert losses.mae(prediction, target)[0] == pytest.approx((1 + 2 + 0 + 1) / 4)
    # q = 0.25: under-forecast costs 0.25 per unit, over-forecast 0.75.
    expected_pinball = (0.25 * 1 + 0.75 * 2 + 0 + 0.25 * 1) / 4
    assert losses.pinball(prediction, target, 0.25)[0] == pytest.approx(expected_pinball)
    expected_smape = (2 * 1 / 3 + 2 * 2 / 4 + 0 + 2 * 1 / 1) / 4
    assert losses.smape(prediction, target)[0] == pytest.approx(expected_smape)


def test_pinball_at_the_median_is_half_the_mae() -> None:
    prediction, target = _pair(1)
    assert losses.pinball(prediction, target, 0.5)[0] == pytest.approx(
        losses.mae(prediction, target)[0] / 2
    )


def test_huber_is_quadratic_near_zero_and_linear_far_away() -> None:
    small = np.array([1e-4])
    large = np.array([10.0])
    zero = np.zeros(1)
    assert losses.huber(small, zero, delta=1.0)[0] == pytest.approx(0.5e-8, rel=1e-3)
    assert losses.huber(large, zero, delta=0.01)[0] == pytest.approx(0.01 * 10.0, rel=1e-2)


def test_smape_counts_zero_over_zero_as_zero() -> None:
    value, grad = losses.smape(np.zeros(2), np.zeros(2))
    assert value == 0.0
    assert np.all(grad == 0.0)


def test_gradient_keeps_float32() -> None:
    prediction, target = (a.astype(np.float32) for a in _pair())
    for loss in losses.LOSSES.values():
        assert loss(prediction, target)[1].dtype == np.float32


def test_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"same shape, got \(2, 3\) and \(2, 4\)"):
        losses.mae(np.zeros((2, 3)), np.zeros((2, 4)))


def test_bad_quantile_says_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="quantile must be strictly between 0 and 1, got 1.5"):
        losses.pinball(np.zeros(2), np.zeros(2), 1.5)
