"""Accuracy metrics against values worked out by hand on tiny arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmlens.metrics import evaluate_panel, mae, mape, mase, mase_scale, owa, rmse, smape

# actual [1, 2, 3, 4], forecast 2 everywhere: errors 1, 0, 1, 2
ACTUAL = [1.0, 2.0, 3.0, 4.0]
FORECAST = [2.0, 2.0, 2.0, 2.0]


def test_mae_rmse_by_hand() -> None:
    assert float(mae(ACTUAL, FORECAST)) == pytest.approx(4 / 4)
    assert float(rmse(ACTUAL, FORECAST)) == pytest.approx(math.sqrt((1 + 0 + 1 + 4) / 4))


def test_mape_by_hand() -> None:
    expected = 100 * (1 / 1 + 0 / 2 + 1 / 3 + 2 / 4) / 4
    assert float(mape(ACTUAL, FORECAST)) == pytest.approx(expected)


def test_smape_by_hand() -> None:
    expected = 200 * (1 / 3 + 0 / 4 + 1 / 5 + 2 / 6) / 4
    assert float(smape(ACTUAL, FORECAST)) == pytest.approx(expected)


def test_smape_counts_zero_over_zero_as_perfect() -> None:
    # step 1: 0 vs 0 -> 0; step 2: 0 vs 1 -> 200 * 1 / 1 = 200
    assert float(smape([0.0, 0.0], [0.0, 1.0])) == pytest.approx(100.0)


def test_smape_is_bounded_by_200() -> None:
    assert float(smape([1.0], [-1.0])) == pytest.approx(200.0)


def test_panel_input_gives_one_value_per_series() -> None:
    actual = np.array([ACTUAL, [10.0, 10.0, 10.0, 10.0]])
    forecast = np.array([FORECAST, [12.0, 8.0, 10.0, 10.0]])
    assert mae(actual, forecast).shape == (2,)
    np.testing.assert_allclose(mae(actual, forecast), [1.0, 1.0])
    np.testing.assert_allclose(rmse(actual, forecast), [math.sqrt(1.5), math.sqrt(2.0)])
    np.testing.assert_allclose(
        smape(actual, forecast), [float(smape(ACTUAL, FORECAST)), 200 * (2 / 22 + 2 / 18) / 4]
    )


def test_single_series_gives_a_zero_dim_value() -> None:
    assert mae(ACTUAL, FORECAST).shape == ()


def test_mase_scale_non_seasonal_and_seasonal() -> None:
    insample = [1.0, 3.0, 2.0, 4.0, 3.0]
    # lag 1: |2|, |1|, |2|, |1| -> 1.5 ; lag 2: |2-1|, |4-3|, |3-2| -> 1.0
    assert mase_scale(insample, 1) == pytest.approx(1.5)
    assert mase_scale(insample, 2) == pytest.approx(1.0)


def test_mase_scale_falls_back_to_lag_one_for_short_history() -> None:
    assert mase_scale([1.0, 3.0, 2.0, 4.0, 3.0], 12) == pytest.approx(1.5)


def test_mase_by_hand() -> None:
    insample = [1.0, 3.0, 2.0, 4.0, 3.0]
    # MAE of [5, 5] vs [4, 7] = 1.5
    assert float(mase([5.0, 5.0], [4.0, 7.0], insample, 1)) == pytest.approx(1.5 / 1.5)
    assert float(mase([5.0, 5.0], [4.0, 7.0], insample, 2)) == pytest.approx(1.5 / 1.0)


def test_mase_panel_with_ragged_histories() -> None:
    actual = np.array([[5.0, 5.0], [0.0, 0.0]])
    forecast = np.array([[4.0, 7.0], [1.0, 1.0]])
    histories = [[1.0, 3.0, 2.0, 4.0, 3.0], [0.0, 4.0]]  # scales 1.5 and 4
    np.testing.assert_allclose(mase(actual, forecast, histories, 1), [1.0, 0.25])


def test_mase_zero_scale_is_inf_or_zero() -> None:
    constant = [3.0, 3.0, 3.0]
    assert float(mase([3.0], [4.0], constant, 1)) == math.inf
    assert float(mase([3.0], [3.0], constant, 1)) == 0.0


def test_mase_checks_number_of_histories() -> None:
    with pytest.raises(ValueError, match="insample has 1 series but actual has 2 rows"):
        mase(np.ones((2, 3)), np.ones((2, 3)), [[1.0, 2.0]], 1)


def test_owa_by_hand() -> None:
    # mean sMAPE 10 vs Naive2 20 -> 0.5 ; mean MASE 3 vs Naive2 2 -> 1.5 ; OWA = 1.0
    assert owa([5.0, 15.0], [2.0, 4.0], [20.0, 20.0], [1.0, 3.0]) == pytest.approx(1.0)
    assert owa(8.0, 1.0, 16.0, 4.0) == pytest.approx(0.5 * (0.5 + 0.25))


def test_owa_of_naive2_against_itself_is_one() -> None:
    assert owa([3.0, 7.0], [1.0, 2.0], [3.0, 7.0], [1.0, 2.0]) == pytest.approx(1.0)


def test_owa_refuses_zero_naive2() -> None:
    with pytest.raises(ValueError, match="smape_naive2 must average to a positive number"):
        owa(1.0, 1.0, 0.0, 1.0)


def test_evaluate_panel_means_and_owa() -> None:
    actual = np.array([[5.0, 5.0], [2.0, 2.0]])
    forecast = np.array([[4.0, 7.0], [2.0, 2.0]])
    naive2 = np.array([[3.0, 3.0], [1.0, 1.0]])
    histories = [[1.0, 3.0, 2.0, 4.0, 3.0], [1.0, 2.0, 3.0]]  # scales 1.5 and 1
    result = evaluate_panel(actual, forecast, histories, 1, naive2=naive2)
    assert set(result) == {"mae", "rmse", "smape", "mase", "owa"}
    assert result["mae"] == pytest.approx((1.5 + 0.0) / 2)
    assert result["mase"] == pytest.approx((1.0 + 0.0) / 2)
    smape_model = (200 * (1 / 9 + 2 / 12) / 2 + 0.0) / 2
    smape_naive2 = (200 * 2 / 8 + 200 * 1 / 3) / 2
    mase_naive2 = (2.0 / 1.5 + 1.0 / 1.0) / 2
    assert result["smape"] == pytest.approx(smape_model)
    expected_owa = 0.5 * (smape_model / smape_naive2 + 0.5 / mase_naive2)
    assert result["owa"] == pytest.approx(expected_owa)


def test_evaluate_panel_without_naive2_has_no_owa() -> None:
    result = evaluate_panel(np.ones((1, 2)), np.ones((1, 2)), [[1.0, 2.0]], 1)
    assert "owa" not in result
    assert result["mae"] == 0.0


def test_shape_mismatch_is_explained() -> None:
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(2,\)"):
        mae([1.0, 2.0, 3.0], [1.0, 2.0])


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(ValueError, match=r"forecast contains a non-finite value \(nan\) at index"):
        smape([1.0, 2.0], [1.0, np.nan])


def test_mape_refuses_zero_actuals() -> None:
    with pytest.raises(ValueError, match="actual is 0 at index"):
        mape([1.0, 0.0], [1.0, 1.0])


@pytest.mark.parametrize("season", [0, -1, 2.5, True])
def test_bad_season(season: object) -> None:
    with pytest.raises(ValueError, match="season must be a positive integer"):
        mase_scale([1.0, 2.0, 3.0], season)  # type: ignore[arg-type]


def test_empty_horizon_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        mae([], [])
