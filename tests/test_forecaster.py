"""LSTMForecaster: estimator contract, alignment, determinism, intervals, streaming, files.

Models here are tiny (a few units, tens of steps): the tests check plumbing and promises,
not accuracy (benchmarks/m4_hourly.py does that).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lstmlens.data import DataError
from lstmlens.forecaster import ForecastTrace, LSTMForecaster, NotFittedError
from lstmlens.io import ModelFileError, load_model_file, save_model_file
from lstmlens.network import LSTMNetwork

NOT_FITTED = (
    "This LSTMForecaster instance is not fitted yet. Call 'fit' with appropriate arguments "
    "before using this estimator."
)
TINY: dict[str, Any] = {
    "horizon": 6,
    "input_size": 48,
    "hidden_size": 6,
    "max_steps": 30,
    "batch_size": 16,
    "ensemble_size": 1,
    "progress": False,
}


def hourly_frame(n_series: int = 3, length: int = 24 * 8, seed: int = 0) -> pd.DataFrame:
    """Positive hourly series with a daily cycle, in long format."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_series):
        t = np.arange(length)
        y = 50.0 * (k + 1) + 10.0 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1.0, length)
        frames.append(pd.DataFrame({
            "unique_id": f"s{k}",
            "ds": pd.date_range("2016-07-01", periods=length, freq="h"),
            "y": y,
        }))
    return pd.concat(frames, ignore_index=True)


def ramp_frame(length: int = 100) -> pd.DataFrame:
    """One series y_t = t + 1 on integer timestamps, so every value names its position."""
    return pd.DataFrame({"unique_id": "ramp", "ds": np.arange(length),
                         "y": np.arange(1, length + 1, dtype=float)})


@pytest.fixture(scope="module")
def fitted() -> LSTMForecaster:
    return LSTMForecaster(**TINY).fit(hourly_frame())


# --- estimator contract ---------------------------------------------------------------------------


def test_init_stores_parameters_unchanged_and_validates_only_in_fit() -> None:
    model = LSTMForecaster(hidden_size=-3, strategy="sideways")  # no error yet
    params = model.get_params()
    assert params["hidden_size"] == -3 and params["strategy"] == "sideways"
    assert set(params) == set(LSTMForecaster().get_params())
    with pytest.raises(ValueError, match=r"strategy must be one of \['direct', 'recursive'\]"):
        model.fit(hourly_frame())


def test_set_params_round_trips_and_rejects_unknown_names() -> None:
    model = LSTMForecaster()
    assert model.set_params(hidden_size=12, loss="mse") is model
    assert model.get_params()["hidden_size"] == 12
    clone = LSTMForecaster(**model.get_params())
    assert clone.get_params() == model.get_params()
    with pytest.raises(ValueError, match="Invalid parameter 'hiden_size'"):
        model.set_params(hiden_size=3)


def test_unfitted_methods_raise_the_sklearn_message() -> None:
    model = LSTMForecaster()
    for call in (model.predict, model.trace, model.fitted_values,
                 lambda: model.update({"a": 1.0}), lambda: model.save("x.lstmlens")):
        with pytest.raises(NotFittedError) as info:
            call()
        assert str(info.value) == NOT_FITTED
    assert not hasattr(model, "network_")


def test_fit_returns_self_with_learned_attributes(fitted: LSTMForecaster) -> None:
    assert isinstance(fitted.network_, LSTMNetwork)
    assert fitted.ids_ == ("s0", "s1", "s2")
    # hourly data: season 24, 48 values as 2 daily steps, calendar encodings per step
    assert (fitted.season_, fitted.step_length_, fitted.input_size_) == (24, 24, 48)
    assert fitted.feature_names_[:2] == ("y[t-23]", "y[t-22]")
    assert fitted.feature_names_[23] == "y[t]"
    assert "hour_sin" in fitted.feature_names_
    assert repr(fitted).startswith("LSTMForecaster(horizon=6")


def test_bad_parameters_are_named_with_the_fix() -> None:
    data = hourly_frame()
    cases = [
        ({"hidden_size": 0}, "hidden_size must be an integer >= 1, got 0"),
        ({"input_size": 50, "step_length": 24}, "step_length=24 must divide input_size=50"),
        ({"learning_rate": -1.0}, "learning_rate must be a number > 0, got -1.0"),
        ({"loss": "l3"}, "loss must be one of"),
        ({"random_state": "seed"}, "random_state must be an int or None"),
        ({"max_steps": None}, "max_steps=None trains until time_budget"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            LSTMForecaster(**{**TINY, **params}).fit(data)


# --- data problems --------------------------------------------------------------------------------


def test_short_series_are_named_in_the_error() -> None:
    data = hourly_frame()
    short = pd.DataFrame({"unique_id": "tiny", "y": np.arange(1.0, 21.0),
                          "ds": pd.date_range("2016-07-01", periods=20, freq="h")})
    with pytest.raises(DataError, match=r"input_size \+ horizon = 48 \+ 6: 'tiny' \(20\)"):
        LSTMForecaster(**TINY).fit(pd.concat([data, short]))


def test_constant_series_warns_but_fits() -> None:
    data = hourly_frame(2)
    data.loc[data["unique_id"] == "s1", "y"] = 7.0
    with pytest.warns(UserWarning, match="'s1' are constant"):
        model = LSTMForecaster(**TINY).fit(data)
    assert np.isfinite(model.predict()["LSTM"]).all()


def test_horizon_beyond_training_is_refused(fitted: LSTMForecaster) -> None:
    with pytest.raises(ValueError, match="h=7 is longer than the horizon=6"):
        fitted.predict(h=7)
    with pytest.raises(ValueError, match="levels must be percentages"):
        fitted.predict(levels=[180])


def test_unknown_series_is_named(fitted: LSTMForecaster) -> None:
    with pytest.raises(DataError, match="unknown series id 'nope'"):
        fitted.trace("nope")


# --- alignment ------------------------------------------------------------------------------------


def test_forecast_starts_right_after_the_last_observation() -> None:
    data = ramp_frame()
    model = LSTMForecaster(**{**TINY, "input_size": 12, "season": 4}).fit(data)
    trace = model.trace()
    np.testing.assert_array_equal(trace.history, np.arange(89, 101))  # y[88..99] = 89..100
    assert list(trace.history_index) == list(range(88, 100))
    assert list(trace.forecast_index) == list(range(100, 106))
    frame = model.predict()
    assert list(frame["ds"]) == list(range(100, 106))
    assert trace.step_labels == ("values 1–4", "values 5–8", "values 9–12")


def test_backtest_windows_align_cutoffs_and_actuals() -> None:
    data = ramp_frame(120)
    model = LSTMForecaster(**{**TINY, "input_size": 12, "season": 4})
    result = model.backtest(data, n_windows=3, step_size=5, h=4)
    assert list(result.columns) == ["unique_id", "ds", "cutoff", "y", "LSTM"]
    assert len(result) == 3 * 4
    assert sorted(result["cutoff"].unique()) == [105, 110, 115]  # last cutoff = n - h - 1
    # y is the actual value at ds (y_t = t + 1) and ds = cutoff + 1 .. cutoff + h
    np.testing.assert_array_equal(result["y"], result["ds"] + 1)
    for cutoff, group in result.groupby("cutoff"):
        assert list(group["ds"]) == [cutoff + k for k in range(1, 5)]
    assert not hasattr(model, "networks_")  # backtest works on a copy


def test_fitted_values_are_one_step_ahead_and_aligned(fitted: LSTMForecaster) -> None:
    values = fitted.fitted_values()
    data = hourly_frame()
    first = values[values["unique_id"] == "s0"]
    series = data[data["unique_id"] == "s0"]
    assert len(first) == len(series) - 48
    assert first["ds"].iloc[0] == series["ds"].iloc[48]
    np.testing.assert_array_equal(first["y"], series["y"].to_numpy()[48:])


def test_trace_matches_the_contract_and_the_forecast(fitted: LSTMForecaster) -> None:
    trace = fitted.trace("s1")
    assert isinstance(trace, ForecastTrace)
    steps, features = trace.inputs.shape
    assert (steps, features) == (2, len(trace.feature_names))
    assert trace.step_labels == ("2016-07-07 00:00 – 23:00", "2016-07-08 00:00 – 23:00")
    assert trace.history.shape == (48,) and len(trace.history_index) == 48
    np.testing.assert_allclose(trace.network_trace.layers[0].inputs[0], trace.inputs)
    np.testing.assert_allclose(
        trace.to_original_units(trace.network_trace.output[0]), trace.forecast
    )
    predicted = fitted.predict()
    np.testing.assert_allclose(predicted.loc[predicted["unique_id"] == "s1", "LSTM"],
                               trace.forecast)
    assert trace.level == pytest.approx(np.mean(np.abs(trace.history[-24:])))


# --- determinism ----------------------------------------------------------------------------------


def test_same_seed_gives_a_bit_identical_model() -> None:
    data = hourly_frame()
    first = LSTMForecaster(**TINY, random_state=3).fit(data)
    second = LSTMForecaster(**TINY, random_state=3).fit(data)
    for name, value in first.network_.parameters.items():
        np.testing.assert_array_equal(value, second.network_.parameters[name])
    pd.testing.assert_frame_equal(first.predict(), second.predict())
    other = LSTMForecaster(**TINY, random_state=4).fit(data)
    assert not np.array_equal(other.network_.parameters["head.weight"],
                              first.network_.parameters["head.weight"])


# --- intervals ------------------------------------------------------------------------------------


def test_conformal_intervals_cover_about_their_level() -> None:
    rng = np.random.default_rng(7)
    n_series, length, h = 60, 110, 8
    frames, future = [], []
    for k in range(n_series):
        t = np.arange(length + h)
        y = 50.0 + 10.0 * np.sin(2 * np.pi * t / 12 + k) + rng.normal(0.0, 2.0, t.size)
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": t[:length], "y": y[:length]}))
        future.append(y[length:])
    model = LSTMForecaster(horizon=h, input_size=24, season=12, hidden_size=8, max_steps=150,
                           batch_size=32, progress=False, validation_windows=2)
    frame = model.fit(pd.concat(frames)).predict(levels=[80, 95])
    actual = np.concatenate(future)
    for level, low, high in ((80, 0.72, 0.90), (95, 0.89, 0.995)):
        inside = (frame[f"LSTM-lo-{level}"] <= actual) & (actual <= frame[f"LSTM-hi-{level}"])
        assert low <= inside.mean() <= high, (level, inside.mean())
    assert (frame["LSTM-lo-95"] <= frame["LSTM-lo-80"]).all()


def test_intervals_need_calibration_windows() -> None:
    model = LSTMForecaster(**TINY, validation_windows=0).fit(hourly_frame())
    assert model.intervals_ is None
    with pytest.raises(ValueError, match="validation_windows >= 1"):
        model.predict(levels=[80])


# --- streaming update -----------------------------------------------------------------------------


def test_update_equals_a_prediction_from_the_whole_history() -> None:
    data = hourly_frame(length=24 * 8 + 5)
    train = data.groupby("unique_id").head(24 * 8)
    new = data.groupby("unique_id").tail(5)
    model = LSTMForecaster(**TINY).fit(train)
    rerun = model.predict(data=data)
    for _, rows in new.groupby(new["ds"]):  # one hour at a time, all series together
        model.update(rows)
    pd.testing.assert_frame_equal(model.predict(), rerun)
    assert model.predict()["ds"].iloc[0] == data["ds"].max() + pd.Timedelta(hours=1)


def test_update_matches_an_independent_forecast_computation() -> None:
    data = ramp_frame(100)
    model = LSTMForecaster(**{**TINY, "input_size": 12, "season": 4, "log": True,
                              "calendar_features": False}).fit(data)
    model.update({"ramp": [101.0, 102.0, 103.0]})
    # By hand: last 12 values, level = mean of the last season, log ratio, 3 steps of 4,
    # network correction added to the seasonal-naive base in log units.
    window = np.arange(92.0, 104.0)
    level = window[-4:].mean()
    x = np.log(window / level).reshape(1, 3, 4)
    correction = model.network_.forward(x.astype(np.float32)).output[0]
    base = np.log(window[-4:][np.arange(6) % 4] / level)
    expected = level * np.exp(base + correction)
    np.testing.assert_allclose(model.predict()["LSTM"], expected, rtol=1e-5)


def test_update_refuses_gaps_and_unknown_series(fitted: LSTMForecaster) -> None:
    model = LSTMForecaster(**TINY).fit(hourly_frame())
    late = pd.DataFrame({"unique_id": ["s0"], "ds": [pd.Timestamp("2016-08-01")], "y": [1.0]})
    with pytest.raises(DataError, match="must continue right after its last timestamp"):
        model.update(late)
    with pytest.raises(DataError, match="unknown series id 'zz'"):
        model.update({"zz": 1.0})


# --- files ----------------------------------------------------------------------------------------


def test_save_load_round_trip_predicts_the_same(fitted: LSTMForecaster, tmp_path: Path) -> None:
    path = tmp_path / "model.lstmlens"
    fitted.save(path)
    loaded = LSTMForecaster.load(path)
    pd.testing.assert_frame_equal(loaded.predict(levels=[80]), fitted.predict(levels=[80]))
    assert loaded.get_params() == fitted.get_params()
    assert loaded.feature_names_ == fitted.feature_names_
    np.testing.assert_array_equal(loaded.trace("s2").inputs, fitted.trace("s2").inputs)
    with pytest.raises(ModelFileError, match="already exists"):
        fitted.save(path)
    fitted.save(path, overwrite=True)


def test_loaded_model_can_stream_without_the_data(fitted: LSTMForecaster, tmp_path: Path) -> None:
    path = tmp_path / "model.lstmlens"
    fitted.save(path)
    loaded = LSTMForecaster.load(path)
    step = pd.DataFrame({"unique_id": ["s0"], "ds": [pd.Timestamp("2016-07-09 00:00")],
                         "y": [55.0]})
    assert loaded.update(step).predict()["ds"].iloc[0] == pd.Timestamp("2016-07-09 01:00")
    with pytest.raises(ValueError, match="pass the series: fitted_values"):
        loaded.fitted_values()


def test_corrupt_or_foreign_files_are_refused(fitted: LSTMForecaster, tmp_path: Path) -> None:
    path = tmp_path / "model.lstmlens"
    fitted.save(path)
    damaged = tmp_path / "damaged.lstmlens"
    damaged.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError):
        LSTMForecaster.load(damaged)
    tensors, metadata = load_model_file(path)
    tensors["member0.head.bias"] = np.zeros(3, dtype=np.float32)
    tampered = tmp_path / "tampered.lstmlens"
    save_model_file(tampered, tensors, metadata)
    with pytest.raises(ModelFileError, match="member0.head.bias"):
        LSTMForecaster.load(tampered)
    foreign = tmp_path / "foreign.lstmlens"
    save_model_file(foreign, {"w": np.zeros(2)}, {"estimator": "Other"})
    with pytest.raises(ModelFileError, match="not an LSTMForecaster"):
        LSTMForecaster.load(foreign)


# --- ensembles and strategies ---------------------------------------------------------------------


def test_ensemble_forecast_is_the_median_of_its_members() -> None:
    model = LSTMForecaster(**{**TINY, "ensemble_size": 3}).fit(hourly_frame())
    assert len(model.networks_) == 3
    trace = model.trace("s0")
    members = [trace.to_original_units(net.forward(trace.inputs[None]).output[0])
               for net in model.networks_]
    predicted = model.predict()
    np.testing.assert_allclose(predicted.loc[predicted["unique_id"] == "s0", "LSTM"],
                               np.median(members, axis=0), rtol=1e-6)
    assert not np.allclose(members[0], members[1])


def test_recursive_strategy_forecasts_any_horizon() -> None:
    model = LSTMForecaster(**TINY, strategy="recursive").fit(hourly_frame())
    assert model.network_.output_size == 1
    frame = model.predict(h=6)
    assert len(frame) == 3 * 6 and np.isfinite(frame["LSTM"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(model.predict(h=9)) == 3 * 9


def test_time_budget_stops_training() -> None:
    model = LSTMForecaster(**{**TINY, "max_steps": None, "time_budget": 0.5})
    model.fit(hourly_frame())
    assert model.training_[0]["seconds"] < 5.0
    assert math.isfinite(model.predict()["LSTM"].sum())


def test_user_covariates_are_step_features() -> None:
    data = hourly_frame()
    data["temperature"] = np.tile(np.arange(24 * 8, dtype=float), 3)
    model = LSTMForecaster(**TINY).fit(data)
    assert model.feature_names_[-1] == "temperature"
    with pytest.raises(ValueError, match="not a mapping"):
        model.update({"s0": 1.0})


def test_recursive_intervals_for_a_shorter_horizon() -> None:
    model = LSTMForecaster(**TINY, strategy="recursive").fit(hourly_frame())
    frame = model.predict(h=3, levels=[80])
    assert len(frame) == 3 * 3
    assert (frame["LSTM-lo-80"] <= frame["LSTM"]).all()
    assert (frame["LSTM"] <= frame["LSTM-hi-80"]).all()


def test_a_plain_list_is_one_series_with_automatic_settings() -> None:
    values = list(50.0 + 10.0 * np.sin(np.arange(80) / 3.0))
    model = LSTMForecaster(max_steps=20, hidden_size=4, batch_size=16, progress=False)
    model.fit(values)
    assert model.ids_ == ("series_0",)
    # no frequency: season 1, horizon 8, input 16 values one per step
    assert (model.season_, model.horizon_, model.input_size_, model.step_length_) == (1, 8, 16, 1)
    assert list(model.predict()["ds"]) == list(range(80, 88))


def test_float64_models_and_new_series_at_predict_time() -> None:
    model = LSTMForecaster(**TINY, dtype="float64").fit(hourly_frame(2))
    assert model.network_.dtype == np.float64
    other = hourly_frame(3, seed=5).replace({"s2": "fresh"})
    frame = model.predict(data=other[other["unique_id"] == "fresh"])
    assert set(frame["unique_id"]) == {"fresh"} and len(frame) == 6


def test_time_zones_survive_a_round_trip(tmp_path: Path) -> None:
    data = hourly_frame(1)
    data["ds"] = data["ds"].dt.tz_localize("Europe/Paris")
    model = LSTMForecaster(**TINY).fit(data)
    model.save(tmp_path / "tz.lstmlens")
    loaded = LSTMForecaster.load(tmp_path / "tz.lstmlens")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    assert str(loaded.predict()["ds"].dt.tz) == "Europe/Paris"


def test_backtest_on_dates_reports_date_cutoffs() -> None:
    result = LSTMForecaster(**TINY).backtest(hourly_frame(), n_windows=2)
    assert len(result) == 3 * 2 * 6
    last = hourly_frame()["ds"].max()
    assert result["cutoff"].max() == last - pd.Timedelta(hours=6)
    assert (result["ds"] > result["cutoff"]).all()


def test_members_trained_in_processes_equal_members_trained_in_turn() -> None:
    data = hourly_frame(2)
    serial = LSTMForecaster(**{**TINY, "ensemble_size": 2, "n_jobs": 1}).fit(data)
    parallel = LSTMForecaster(**{**TINY, "ensemble_size": 2, "n_jobs": 2}).fit(data)
    for one, other in zip(serial.networks_, parallel.networks_, strict=True):
        for name, value in one.parameters.items():
            np.testing.assert_array_equal(value, other.parameters[name])


def test_settings_that_contradict_the_data_are_explained() -> None:
    ramp = ramp_frame()
    with pytest.raises(ValueError, match="calendar_features=True needs dates"):
        LSTMForecaster(**{**TINY, "input_size": 12}, calendar_features=True).fit(ramp)
    negative = ramp.assign(y=ramp["y"] - 50.0)
    with pytest.raises(DataError, match="log=True needs positive values, but series 'ramp'"):
        LSTMForecaster(**{**TINY, "input_size": 12}, log=True).fit(negative)
    model = LSTMForecaster(**{**TINY, "input_size": 12, "season": 4}).fit(negative)
    assert model.log_ is False  # "auto" leaves non-positive data unlogged


def test_hourly_data_gets_the_tuned_ensemble_by_default() -> None:
    settings = {**TINY, "ensemble_size": "auto", "n_jobs": 1, "max_steps": 5}
    assert len(LSTMForecaster(**settings).fit(hourly_frame(1)).networks_) == 4
    monthly = ramp_frame(60).assign(ds=pd.date_range("2000-01-01", periods=60, freq="MS"))
    model = LSTMForecaster(**{**settings, "input_size": 12}).fit(monthly)
    assert len(model.networks_) == 1


@pytest.mark.parametrize("cached", [True, False])
def test_a_first_run_says_the_kernels_are_compiling(
    cached: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lstmlens import kernels

    monkeypatch.setattr(kernels, "compiled_on_disk", lambda: cached)
    LSTMForecaster(**{**TINY, "progress": True, "max_steps": 2}).fit(hourly_frame(1))
    said = "Compiling the LSTM kernels" in capsys.readouterr().err
    assert said is not cached


def test_the_kernel_cache_check_reads_numba_s_index_files(monkeypatch: pytest.MonkeyPatch) -> None:
    from lstmlens import kernels

    LSTMForecaster(**{**TINY, "max_steps": 2}).fit(hourly_frame(1))
    assert kernels.compiled_on_disk()
    # with no index files on disk the check must say so (not fall back to "cached")
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    assert not kernels.compiled_on_disk()
