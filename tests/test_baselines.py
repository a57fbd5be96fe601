"""Benchmark forecasts on series whose forecasts can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlens.baselines import (
    Drift,
    Forecaster,
    Naive,
    Naive2,
    SeasonalNaive,
    acf,
    drift,
    forecast_panel,
    is_seasonal,
    naive,
    naive2,
    seasonal_indices,
    seasonal_naive,
)


def _acf_reference(y: np.ndarray, lag: int) -> float:
    """Independent autocorrelation: numpy.correlate of the centred series."""
    centred = y - y.mean()
    full = np.correlate(centred, centred, mode="full")  # lags -(n-1)..(n-1)
    return float(full[len(y) - 1 + lag] / full[len(y) - 1])


def _multiplicative(level: float, season_shape: list[float], n: int) -> np.ndarray:
    """A constant level times a repeating seasonal pattern: y_t = level * s_{t mod m}."""
    shape = np.asarray(season_shape)
    return level * shape[np.arange(n) % shape.size]


def test_naive_repeats_last_value() -> None:
    np.testing.assert_array_equal(naive([3.0, 1.0, 4.0], 3), [4.0, 4.0, 4.0])


def test_seasonal_naive_repeats_last_season() -> None:
    y = np.arange(1.0, 8.0)  # 1..7, last season of 3 is [5, 6, 7]
    np.testing.assert_array_equal(seasonal_naive(y, 5, 3), [5.0, 6.0, 7.0, 5.0, 6.0])


def test_seasonal_naive_needs_one_season() -> None:
    with pytest.raises(ValueError, match="needs at least season=24 values, got 5"):
        seasonal_naive(np.ones(5), 2, 24)


def test_drift_extends_the_line_through_first_and_last() -> None:
    np.testing.assert_allclose(drift([1.0, 4.0, 5.0], 3), [7.0, 9.0, 11.0])
    np.testing.assert_array_equal(drift([2.0], 2), [2.0, 2.0])


def test_acf_by_hand() -> None:
    # centred [-1.5, -0.5, 0.5, 1.5], sum of squares 5, lag-1 products 0.75 - 0.25 + 0.75
    assert acf([1.0, 2.0, 3.0, 4.0], 1) == pytest.approx(1.25 / 5)
    assert acf([2.0, 2.0, 2.0], 1) == 0.0


def test_acf_matches_numpy_correlate() -> None:
    y = np.random.default_rng(0).normal(size=50)
    for lag in (1, 5, 12):
        assert acf(y, lag) == pytest.approx(_acf_reference(y, lag))


def test_seasonality_test_matches_the_m4_formula() -> None:
    rng = np.random.default_rng(1)
    m = 4
    outcomes = []
    for trial in range(20):  # seasonal amplitude growing from 0 to ~1.6 noise sds
        pattern = _multiplicative(trial / 12, [0.0, 1.0, 0.0, -1.0], 48)
        y = 10 + pattern + rng.normal(size=48)
        r = [_acf_reference(y, k) for k in range(1, m + 1)]
        limit = 1.645 * np.sqrt((1 + 2 * sum(v**2 for v in r[:-1])) / y.size)
        outcomes.append(abs(r[-1]) > limit)
        assert is_seasonal(y, m) == outcomes[-1]
    assert 3 <= sum(outcomes) <= 17, "the cases should exercise both answers"


def test_seasonality_test_needs_three_seasons() -> None:
    y = _multiplicative(100.0, [0.5, 1.5, 1.2, 0.8], 11)  # strongly seasonal but n < 12
    assert not is_seasonal(y, 4)
    np.testing.assert_array_equal(naive2(y, 3, 4), naive(y, 3))


@pytest.mark.parametrize(
    ("season_shape", "n"),
    [([0.5, 1.5, 1.2, 0.8], 40), ([0.7, 1.0, 1.3], 31), ([0.9, 1.1, 1.4, 0.6], 37)],
)
def test_naive2_forecasts_a_multiplicative_series_exactly(
    season_shape: list[float], n: int
) -> None:
    y = _multiplicative(100.0, season_shape, n)
    m = len(season_shape)
    assert is_seasonal(y, m)
    np.testing.assert_allclose(seasonal_indices(y, m), season_shape)
    expected = [100.0 * season_shape[t % m] for t in range(n, n + 7)]
    np.testing.assert_allclose(naive2(y, 7, m), expected)


def test_naive2_equals_naive_without_seasonality() -> None:
    y = 50 + np.random.default_rng(3).normal(size=60)
    assert not is_seasonal(y, 12)
    np.testing.assert_array_equal(naive2(y, 5, 12), naive(y, 5))


def test_naive2_with_season_one_is_naive() -> None:
    y = _multiplicative(10.0, [0.5, 1.5], 20)
    np.testing.assert_array_equal(naive2(y, 4, 1), naive(y, 4))


def test_naive2_skips_seasonal_adjustment_for_non_positive_data() -> None:
    y = _multiplicative(100.0, [0.5, 1.5, 1.2, 0.8], 40)
    y[3] = 0.0
    np.testing.assert_array_equal(naive2(y, 3, 4), naive(y, 3))


def test_model_objects_share_one_interface() -> None:
    y = np.arange(1.0, 9.0)
    models: list[Forecaster] = [Naive(), SeasonalNaive(4), Drift(), Naive2(4)]
    assert [m.name for m in models] == ["Naive", "SeasonalNaive", "Drift", "Naive2"]
    np.testing.assert_array_equal(models[0].forecast(y, 2), [8.0, 8.0])
    np.testing.assert_array_equal(models[1].forecast(y, 2), [5.0, 6.0])
    np.testing.assert_allclose(models[2].forecast(y, 2), [9.0, 10.0])
    assert repr(models[3]) == "Naive2(season=4)"


def test_forecast_panel_stacks_series_of_different_lengths() -> None:
    result = forecast_panel(Naive(), [np.array([1.0, 2.0]), np.array([5.0, 6.0, 7.0])], 3)
    np.testing.assert_array_equal(result, [[2.0, 2.0, 2.0], [7.0, 7.0, 7.0]])


def test_forecast_panel_names_the_failing_series() -> None:
    with pytest.raises(ValueError, match="series 1: seasonal_naive needs at least season=4"):
        forecast_panel(SeasonalNaive(4), [np.ones(8), np.ones(2)], 2)


@pytest.mark.parametrize("h", [0, -3, 1.5, True])
def test_bad_horizon(h: object) -> None:
    with pytest.raises(ValueError, match=r"h must be an integer >= 1, got"):
        naive([1.0, 2.0], h)  # type: ignore[arg-type]


@pytest.mark.parametrize("season", [0, -1])
def test_bad_season(season: int) -> None:
    with pytest.raises(ValueError, match="season must be an integer >= 1"):
        SeasonalNaive(season)
    with pytest.raises(ValueError, match="season must be an integer >= 1"):
        naive2([1.0, 2.0], 1, season)


def test_empty_series() -> None:
    with pytest.raises(ValueError, match="y is empty"):
        drift([], 2)


def test_missing_values_are_refused() -> None:
    with pytest.raises(ValueError, match="y contains nan at position 1"):
        naive([1.0, np.nan, 2.0], 2)


def test_two_dimensional_input_is_refused() -> None:
    with pytest.raises(ValueError, match="use forecast_panel"):
        naive(np.ones((2, 3)), 2)
