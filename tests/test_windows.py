"""Windows: alignment (off-by-one), folding, scaling, targets and the time split.

The series ``y_t = t + 1`` makes every value name its own position, so alignment errors show
up as wrong numbers rather than as slightly worse accuracy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmlens.windows import (
    FlatPanel,
    WindowSpec,
    base_forecast,
    build_windows,
    split_origins,
    unscale,
    window_levels,
)


def _ramp(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.float64)  # y_t = t + 1 (positive for the log)


def _spec(**changes: object) -> WindowSpec:
    settings: dict[str, object] = {"input_size": 12, "step_length": 4, "horizon": 6, "season": 4}
    settings.update(changes)
    return WindowSpec(**settings)  # type: ignore[arg-type]


def test_last_observed_value_is_the_last_input_and_targets_follow_it() -> None:
    y = _ramp(40)
    spec = _spec(baseline="level", log=False)
    panel = FlatPanel.from_series([y])
    origin = 20
    batch = build_windows(panel, np.array([0]), np.array([origin]), spec, dtype=np.float64)
    # input y[t-11] .. y[t] with t = 20, i.e. values 10 .. 21
    np.testing.assert_array_equal(batch.history[0], np.arange(10, 22))
    assert batch.history[0, -1] == y[origin]
    # horizon step k is y[t + k] = t + k + 1
    assert batch.targets is not None
    recovered = unscale(batch.base + batch.targets, batch.levels, log=False)
    np.testing.assert_allclose(recovered[0], [origin + k + 1 for k in range(1, 7)])


def test_log_targets_recover_the_future_values() -> None:
    y = _ramp(40)
    spec = _spec(log=True)
    batch = build_windows(FlatPanel.from_series([y]), np.array([0, 0]), np.array([11, 30]), spec,
                          dtype=np.float64)
    assert batch.targets is not None
    recovered = unscale(batch.base + batch.targets, batch.levels, log=True)
    np.testing.assert_allclose(recovered, [y[12:18], y[31:37]])


def test_level_is_the_mean_of_the_last_season_and_scaling_divides_by_it() -> None:
    y = _ramp(30)
    spec = _spec(log=False, baseline="level")
    batch = build_windows(FlatPanel.from_series([y]), np.array([0]), np.array([15]), spec,
                          dtype=np.float64)
    expected_level = (13 + 14 + 15 + 16) / 4  # y[12..15]
    assert batch.levels[0] == pytest.approx(expected_level)
    np.testing.assert_allclose(batch.inputs[0].ravel(), np.arange(5, 17) / expected_level)


def test_scaling_can_be_switched_off() -> None:
    y = _ramp(30)
    spec = _spec(log=False, baseline="level", scale_by_level=False)
    batch = build_windows(FlatPanel.from_series([y]), np.array([0]), np.array([15]), spec,
                          dtype=np.float64)
    assert batch.levels[0] == 1.0
    np.testing.assert_allclose(batch.inputs[0].ravel(), np.arange(5, 17))


def test_seasonal_naive_base_repeats_the_last_season() -> None:
    y = _ramp(50)
    spec = _spec(horizon=9, log=False)
    origin = 30
    batch = build_windows(FlatPanel.from_series([y]), np.array([0]), np.array([origin]), spec,
                          dtype=np.float64)
    # seasonal naive for t + k: y[t + k - m * ceil(k / m)], m = 4
    expected = [y[origin + k - 4 * math.ceil(k / 4)] for k in range(1, 10)]
    np.testing.assert_allclose(unscale(batch.base, batch.levels, log=False)[0], expected)


def test_naive_and_level_bases() -> None:
    scaled = np.array([[0.5, 1.0, 2.0, 3.0]])
    naive = base_forecast(scaled, WindowSpec(4, 1, 3, 2, baseline="naive"))
    np.testing.assert_array_equal(naive, [[3.0, 3.0, 3.0]])
    level_log = base_forecast(scaled, WindowSpec(4, 1, 3, 2, baseline="level", log=True))
    level_ratio = base_forecast(scaled, WindowSpec(4, 1, 3, 2, baseline="level", log=False))
    np.testing.assert_array_equal(level_log, np.zeros((1, 3)))
    np.testing.assert_array_equal(level_ratio, np.ones((1, 3)))


def test_period_folding_puts_consecutive_values_in_each_step() -> None:
    y = _ramp(30)
    spec = _spec(log=False, baseline="level", scale_by_level=False)
    batch = build_windows(FlatPanel.from_series([y]), np.array([0]), np.array([11]), spec,
                          dtype=np.float64)
    assert batch.inputs.shape == (1, 3, 4)  # 12 values as 3 steps of 4
    np.testing.assert_array_equal(batch.inputs[0], [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])


def test_step_length_one_is_one_value_per_step() -> None:
    spec = _spec(step_length=1, log=False, baseline="level", scale_by_level=False)
    batch = build_windows(FlatPanel.from_series([_ramp(30)]), np.array([0]), np.array([11]),
                          spec, dtype=np.float64)
    assert batch.inputs.shape == (1, 12, 1)
    np.testing.assert_array_equal(batch.inputs[0, :, 0], np.arange(1, 13))


def test_covariates_of_a_step_are_taken_at_its_last_time() -> None:
    y = _ramp(30)
    position = np.arange(30, dtype=np.float64)[:, None]  # covariate = the time index
    spec = _spec(n_covariates=1, log=False, baseline="level", scale_by_level=False)
    batch = build_windows(FlatPanel.from_series([y], [position]), np.array([0]),
                          np.array([20]), spec, dtype=np.float64)
    assert batch.inputs.shape == (1, 3, 5)
    # window covers t = 9..20; steps end at 12, 16, 20
    np.testing.assert_array_equal(batch.inputs[0, :, 4], [12, 16, 20])


def test_recursive_strategy_targets_one_step() -> None:
    spec = _spec(strategy="recursive", log=False, baseline="level")
    batch = build_windows(FlatPanel.from_series([_ramp(30)]), np.array([0]), np.array([20]),
                          spec, dtype=np.float64)
    assert batch.targets is not None and batch.targets.shape == (1, 1)
    assert unscale(batch.base + batch.targets, batch.levels, log=False)[0, 0] == 22.0


def test_windows_gather_from_the_right_series() -> None:
    panel = FlatPanel.from_series([_ramp(20), 100 + _ramp(25)])
    spec = _spec(log=False)
    batch = build_windows(panel, np.array([1, 0]), np.array([11, 11]), spec, dtype=np.float64)
    np.testing.assert_array_equal(batch.history[0], 100 + np.arange(1, 13))
    np.testing.assert_array_equal(batch.history[1], np.arange(1, 13))


def test_window_that_does_not_fit_is_refused_with_the_reason() -> None:
    spec = _spec()
    panel = FlatPanel.from_series([_ramp(20)])
    with pytest.raises(ValueError, match="origin >= input_size - 1 = 11"):
        build_windows(panel, np.array([0]), np.array([5]), spec)
    with pytest.raises(ValueError, match="origin \\+ 6 < the series length 20"):
        build_windows(panel, np.array([0]), np.array([15]), spec)
    # without targets the last value may be the origin
    build_windows(panel, np.array([0]), np.array([19]), spec, with_targets=False)


def test_zero_window_gets_a_safe_level() -> None:
    history = np.array([[0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0]])
    np.testing.assert_array_equal(window_levels(history, season=2), [1.0, 1.0])


def test_split_keeps_validation_targets_out_of_training() -> None:
    spec = _spec()
    lengths = np.array([40, 30])
    (train_series, train_origins), (val_series, val_origins) = split_origins(lengths, spec, 3)
    for i, n in enumerate(lengths):
        val = val_origins[val_series == i]
        train = train_origins[train_series == i]
        # validation: the last 3 origins, the last forecast ending at the last value
        np.testing.assert_array_equal(val, np.arange(n - 6 - 3, n - 6))
        # every training target (origin + 1 .. origin + 6) precedes every validation target
        assert train.max() + 6 < val.min() + 1
        assert train.min() == spec.input_size - 1
        assert train.max() + 6 == val.min()


def test_split_without_validation_uses_every_window() -> None:
    spec = _spec()
    (series, origins), (val_series, _) = split_origins(np.array([30]), spec, 0)
    assert val_series.size == 0
    np.testing.assert_array_equal(origins, np.arange(11, 30 - 6))


def test_split_can_keep_only_recent_training_windows() -> None:
    spec = _spec()
    (_, origins), _ = split_origins(np.array([60]), spec, 1, max_train_windows=5)
    assert origins.size == 5
    assert origins.max() == 60 - 6 - 1 - 6


def test_spec_refuses_steps_that_do_not_divide_the_window() -> None:
    with pytest.raises(ValueError, match="step_length=5 must divide input_size=12"):
        _spec(step_length=5)
    with pytest.raises(ValueError, match="season=24 is longer than input_size=12"):
        _spec(season=24)
    with pytest.raises(ValueError, match="strategy must be 'direct' or 'recursive'"):
        _spec(strategy="both")
