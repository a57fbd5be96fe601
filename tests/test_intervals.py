"""Split-conformal intervals: the finite-sample quantile by hand, and coverage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmlens.intervals import ConformalIntervals, required_windows


def _nine_windows() -> ConformalIntervals:
    # step 0: |errors| 1..9 (signs mixed) ; step 1: ten times larger
    errors = np.array([1, -2, 3, -4, 5, -6, 7, -8, 9], dtype=float)
    return ConformalIntervals().fit(np.column_stack([errors, 10 * errors]))


def test_half_width_is_the_finite_sample_quantile() -> None:
    intervals = _nine_windows()
    # n = 9: level 80 -> rank ceil(10 * 0.8) = 8 ; level 50 -> rank ceil(5.0) = 5
    np.testing.assert_allclose(intervals.half_width(80), [8.0, 80.0])
    np.testing.assert_allclose(intervals.half_width(50), [5.0, 50.0])
    # level 85 -> rank ceil(8.5) = 9, the largest error
    np.testing.assert_allclose(intervals.half_width(85), [9.0, 90.0])


def test_interval_is_symmetric_around_the_forecast() -> None:
    intervals = _nine_windows()
    forecast = np.array([[100.0, 200.0], [0.0, -5.0]])
    bounds = intervals.interval(forecast, levels=(80,))
    lo, hi = bounds[80]
    np.testing.assert_allclose(lo, [[92.0, 120.0], [-8.0, -85.0]])
    np.testing.assert_allclose(hi, [[108.0, 280.0], [8.0, 75.0]])


def test_scale_multiplies_the_width_per_series() -> None:
    intervals = _nine_windows()
    forecast = np.array([[100.0, 200.0], [10.0, 10.0]])
    lo, hi = intervals.interval(forecast, levels=[50], scale=[2.0, 0.5])[50]
    np.testing.assert_allclose(hi - forecast, [[10.0, 100.0], [2.5, 25.0]])
    np.testing.assert_allclose(forecast - lo, hi - forecast)


def test_one_dimensional_forecast() -> None:
    lo, hi = _nine_windows().interval([1.0, 2.0], levels=(50,), scale=[3.0])[50]
    np.testing.assert_allclose(lo, [1.0 - 15.0, 2.0 - 150.0])
    assert hi.shape == (2,)


def test_levels_are_the_dict_keys() -> None:
    result = _nine_windows().interval(np.zeros((1, 2)), levels=(50, 80))
    assert list(result) == [50, 80]


@pytest.mark.parametrize(("level", "needed"), [(50, 1), (80, 4), (90, 9), (95, 19), (99, 99)])
def test_required_windows(level: float, needed: int) -> None:
    # by hand: the smallest n with ceil((n + 1) * level / 100) <= n, i.e. n >= L / (100 - L)
    assert required_windows(level) == needed


def test_too_few_windows_names_the_level_and_the_count() -> None:
    intervals = _nine_windows()
    with pytest.raises(
        ValueError, match="level 95 needs at least 19 calibration windows, but only 9 were given"
    ):
        intervals.interval(np.zeros((1, 2)), levels=(80, 95))


@pytest.mark.parametrize("level", [0, 100, -5, 120, True, "80"])
def test_bad_levels(level: object) -> None:
    with pytest.raises(ValueError, match="level must be a percentage strictly between 0 and 100"):
        _nine_windows().interval(np.zeros((1, 2)), levels=[level])  # type: ignore[list-item]


def test_forecast_shape_must_match_horizon() -> None:
    with pytest.raises(ValueError, match=r"point_forecast must have shape \(n_series, 2\)"):
        _nine_windows().interval(np.zeros((3, 5)))


def test_scale_must_have_one_value_per_series() -> None:
    with pytest.raises(ValueError, match=r"scale must hold one value per series \(2\)"):
        _nine_windows().interval(np.zeros((2, 2)), scale=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="scale must be finite and >= 0, got -1.0"):
        _nine_windows().interval(np.zeros((2, 2)), scale=[1.0, -1.0])


def test_residuals_must_be_finite_2d() -> None:
    with pytest.raises(ValueError, match=r"residuals must be a non-empty 2-D array"):
        ConformalIntervals().fit(np.ones(5))
    with pytest.raises(ValueError, match="residuals contain nan at window 1, step 0"):
        ConformalIntervals().fit([[1.0], [np.nan]])


def test_not_fitted() -> None:
    with pytest.raises(RuntimeError, match="not fitted yet. Call 'fit'"):
        ConformalIntervals().half_width(80)


def test_state_round_trip_through_json() -> None:
    intervals = _nine_windows()
    state = json.loads(json.dumps(intervals.to_state()))
    restored = ConformalIntervals.from_state(state)
    np.testing.assert_array_equal(restored.half_width(80), intervals.half_width(80))
    assert repr(restored) == "ConformalIntervals(n_windows=9, horizon=2)"
    with pytest.raises(ValueError, match="state has no 'abs_residuals' entry"):
        ConformalIntervals.from_state({"other": 1})


@pytest.mark.parametrize("level", [80, 95])
def test_coverage_on_gaussian_errors(level: int) -> None:
    rng = np.random.default_rng(42)
    h, n = 3, 2000
    sd = np.array([1.0, 2.0, 4.0])  # wider errors further ahead
    intervals = ConformalIntervals().fit(rng.normal(size=(n, h)) * sd)
    point = np.full((n, h), 10.0)
    actual = point + rng.normal(size=(n, h)) * sd
    lo, hi = intervals.interval(point, levels=(level,))[level]
    coverage = 100 * np.mean((actual >= lo) & (actual <= hi), axis=0)
    assert np.all(np.abs(coverage - level) <= 2.5), coverage


def test_coverage_in_scaled_units() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    # errors proportional to each window's level; calibrate on errors divided by the level
    levels_cal = rng.uniform(1, 100, size=n)
    errors_cal = rng.normal(size=n) * 0.1 * levels_cal
    intervals = ConformalIntervals().fit((errors_cal / levels_cal)[:, None])
    levels_test = rng.uniform(1, 100, size=n)
    point = levels_test[:, None]
    actual = point + (rng.normal(size=n) * 0.1 * levels_test)[:, None]
    lo, hi = intervals.interval(point, levels=(80,), scale=levels_test)[80]
    coverage = 100 * np.mean((actual >= lo) & (actual <= hi))
    assert abs(coverage - 80) <= 2.5
