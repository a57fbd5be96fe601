"""The forecasting commands of the CLI: forecast, fit, predict, backtest/evaluate.

In-process through typer's CliRunner with a tiny, fast model, plus one real subprocess run.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from lstmlens.cli import app
from lstmlens.commands import forecasting
from lstmlens.datasets import air_passengers_path
from lstmlens.forecaster import LSTMForecaster

#: Small and quick: a fit takes well under a second on the embedded data.
FAST = ["--max-steps", "15", "--hidden-size", "8", "--quiet"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
INTERVAL_COLUMNS = ["LSTM-lo-80", "LSTM-hi-80", "LSTM-lo-95", "LSTM-hi-95"]

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``lstmlens ARGS`` in-process inside an empty working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LSTMLENS_DEBUG", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, [str(arg) for arg in args])

    return run


def assert_one_line_error(result: Result, code: int, *words: str) -> None:
    """Exit ``code`` with a single ``Error:`` line on stderr naming ``words``, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    assert "Traceback" not in result.output


# --- forecast ---------------------------------------------------------------------------------


def test_forecast_on_embedded_data_writes_csv_and_png(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("forecast", *FAST)
    assert result.exit_code == 0, result.output
    assert forecasting.EMBEDDED_NOTE in result.stdout
    frame = pd.read_csv(tmp_path / "forecasts.csv", parse_dates=["ds"])
    assert list(frame.columns) == ["unique_id", "ds", "LSTM", *INTERVAL_COLUMNS]
    assert len(frame) == forecasting.EMBEDDED_HORIZON == 24
    assert frame["ds"].iloc[0] == pd.Timestamp("1961-01-01")
    assert (frame["LSTM-lo-95"] <= frame["LSTM-lo-80"]).all()
    assert (frame["LSTM-lo-80"] <= frame["LSTM"]).all()
    assert (frame["LSTM"] <= frame["LSTM-hi-80"]).all()
    assert (tmp_path / "forecast.png").read_bytes().startswith(PNG_MAGIC)


def test_forecast_prints_a_table_and_honours_levels_and_paths(
    invoke: Invoke, tmp_path: Path
) -> None:
    fast_verbose = [arg for arg in FAST if arg != "--quiet"]
    result = invoke("forecast", str(air_passengers_path()), "--horizon", "6", "--levels", "50",
                    "-o", "out.csv", "--no-plot", *fast_verbose)
    assert result.exit_code == 0, result.output
    assert "50% interval" in result.stdout and "1961-06-01" in result.stdout
    assert "embedded" not in result.stdout
    frame = pd.read_csv(tmp_path / "out.csv")
    assert list(frame.columns) == ["unique_id", "ds", "LSTM", "LSTM-lo-50", "LSTM-hi-50"]
    assert len(frame) == 6
    assert not (tmp_path / "forecast.png").exists()


def test_levels_zero_means_no_intervals(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("forecast", "--levels", "0", "--no-plot", *FAST)
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(tmp_path / "forecasts.csv").columns) == ["unique_id", "ds", "LSTM"]


def test_custom_column_names_in_and_out(invoke: Invoke, tmp_path: Path) -> None:
    source = pd.read_csv(air_passengers_path()).rename(columns={"ds": "month", "y": "pax"})
    source.insert(0, "route", "A")
    source.to_csv(tmp_path / "custom.csv", index=False)
    result = invoke("forecast", "custom.csv", "--id-col", "route", "--time-col", "month",
                    "--target-col", "pax", "-H", "3", "--levels", "0", *FAST)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "forecasts.csv")
    assert list(frame.columns) == ["route", "month", "LSTM"]


# --- fit and predict --------------------------------------------------------------------------


def test_fit_then_predict_equals_forecast_with_the_same_seed(
    invoke: Invoke, tmp_path: Path
) -> None:
    data = str(air_passengers_path())
    assert invoke("fit", data, "-H", "12", "--seed", "3", "-o", "m.lstmlens", *FAST).exit_code == 0
    predicted = invoke("predict", "m.lstmlens", "-o", "predicted.csv", "--quiet")
    assert predicted.exit_code == 0, predicted.output
    direct = invoke("forecast", data, "-H", "12", "--seed", "3", "-o", "direct.csv", "--no-plot",
                    *FAST)
    assert direct.exit_code == 0, direct.output
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "predicted.csv"), pd.read_csv(tmp_path / "direct.csv")
    )


def test_predict_shorter_horizon_and_too_long_horizon(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("forecast", "--save-model", "m.lstmlens", "--no-plot", *FAST).exit_code == 0
    short = invoke("predict", "m.lstmlens", "-H", "5", "-o", "short.csv", "--quiet")
    assert short.exit_code == 0, short.output
    assert len(pd.read_csv(tmp_path / "short.csv")) == 5
    too_long = invoke("predict", "m.lstmlens", "-H", "99", "-o", "long.csv")
    assert_one_line_error(too_long, 2, "h=99", "horizon")


# --- bad input --------------------------------------------------------------------------------

BAD_CSVS = {
    "empty": ("", ["empty"]),
    "text": ("ds,y\n2020-01-01,1\n2020-02-01,abc\n2020-03-01,3\n", ["abc", "line 3"]),
    "one_row": ("ds,y\n2020-01-01,1\n", ["--freq"]),  # the option, not the keyword freq=
    "missing_column": ("unique_id,ds\na,2020-01-01\na,2020-02-01\n", ["missing", "'y'"]),
    "duplicates": (
        "unique_id,ds,y\na,2020-01-01,1\na,2020-01-01,2\na,2020-02-01,3\n",
        ["2020-01-01", "more than once"],
    ),
    "nan": ("ds,y\n2020-01-01,1\n2020-02-01,\n2020-03-01,3\n2020-04-01,4\n", ["missing"]),
}


@pytest.mark.parametrize("name", sorted(BAD_CSVS))
def test_bad_csv_exits_2_with_one_line(invoke: Invoke, tmp_path: Path, name: str) -> None:
    content, words = BAD_CSVS[name]
    (tmp_path / "bad.csv").write_text(content)
    result = invoke("forecast", "bad.csv", "-H", "2", *FAST)
    assert_one_line_error(result, 2, *words)
    assert not (tmp_path / "forecasts.csv").exists()


def test_too_short_series_names_the_fix(invoke: Invoke, tmp_path: Path) -> None:
    frame = pd.read_csv(air_passengers_path()).head(30)
    frame.to_csv(tmp_path / "short.csv", index=False)
    result = invoke("fit", "short.csv", "-H", "24", *FAST)
    assert_one_line_error(result, 2, "fewer than")


def test_missing_data_file_exits_2(invoke: Invoke) -> None:
    assert_one_line_error(invoke("fit", "nope.csv", *FAST), 2, "nope.csv", "not found")


def test_bad_option_value_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("forecast", "--horizon", "0")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_missing_interpolate_repairs_the_gap(invoke: Invoke, tmp_path: Path) -> None:
    frame = pd.read_csv(air_passengers_path())
    frame.loc[50, "y"] = None
    frame.to_csv(tmp_path / "gap.csv", index=False)
    result = invoke("forecast", "gap.csv", "--missing", "interpolate", "-H", "3", "--no-plot",
                    *FAST)
    assert result.exit_code == 0, result.output


# --- files that exist, damaged models ---------------------------------------------------------


def test_existing_output_is_kept_without_force(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "forecasts.csv"
    target.write_bytes(b"precious,bytes\n1,2\n")
    result = invoke("forecast", *FAST)
    assert_one_line_error(result, 3, "forecasts.csv", "--force")
    assert target.read_bytes() == b"precious,bytes\n1,2\n"
    assert not (tmp_path / "forecast.png").exists()
    forced = invoke("forecast", "--force", "--no-plot", *FAST)
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes().startswith(b"unique_id,ds,LSTM")


def test_existing_model_file_is_kept_without_force(invoke: Invoke, tmp_path: Path) -> None:
    model = tmp_path / "m.lstmlens"
    model.write_bytes(b"old")
    result = invoke("fit", str(air_passengers_path()), "-o", "m.lstmlens", *FAST)
    assert_one_line_error(result, 3, "m.lstmlens")
    assert model.read_bytes() == b"old"


def test_corrupt_model_file_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "broken.lstmlens").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    assert_one_line_error(invoke("predict", "broken.lstmlens"), 2, "broken.lstmlens")
    assert_one_line_error(invoke("predict", "absent.lstmlens"), 2, "absent.lstmlens")


def test_missing_output_directory_exits_2(invoke: Invoke) -> None:
    result = invoke("forecast", "-o", "no/such/dir/f.csv", *FAST)
    assert_one_line_error(result, 2, "does not exist")


# --- unexpected errors ------------------------------------------------------------------------


def _explode(self: LSTMForecaster, data: object) -> LSTMForecaster:
    raise RuntimeError("boom")


def test_internal_error_is_one_line_with_a_hint(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LSTMForecaster, "fit", _explode)
    assert_one_line_error(invoke("forecast", "--no-plot", *FAST), 1, "RuntimeError: boom",
                          "report", "--debug")


def test_debug_shows_the_traceback(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LSTMForecaster, "fit", _explode)
    result = invoke("forecast", "--no-plot", "--debug", *FAST)
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    monkeypatch.setenv("LSTMLENS_DEBUG", "1")
    assert isinstance(invoke("forecast", "--no-plot", *FAST).exception, RuntimeError)


# --- backtest ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["backtest", "evaluate"])
def test_backtest_prints_metrics_of_lstm_and_baselines(
    invoke: Invoke, tmp_path: Path, command: str
) -> None:
    result = invoke(command, str(air_passengers_path()), "-H", "12", "--windows", "2",
                    "-o", "bt.csv", *FAST)
    assert result.exit_code == 0, result.output
    for word in ("LSTM", "SeasonalNaive", "Naive2", "MAE", "RMSE", "sMAPE", "MASE", "OWA"):
        assert word in result.stdout
    frame = pd.read_csv(tmp_path / "bt.csv")
    assert list(frame.columns) == [
        "unique_id", "ds", "cutoff", "y", "LSTM", "SeasonalNaive", "Naive2"
    ]
    assert len(frame) == 2 * 12
    last_cutoff = frame[frame["cutoff"] == frame["cutoff"].max()]
    history = pd.read_csv(air_passengers_path())
    assert last_cutoff["SeasonalNaive"].tolist() == history["y"].iloc[-24:-12].tolist()


# --- help and defaults ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["forecast", "fit", "predict", "backtest", "evaluate"])
def test_help_of_every_command(invoke: Invoke, command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "--horizon" in result.stdout
    assert "Traceback" not in result.output


def test_cli_defaults_are_the_library_defaults() -> None:
    library = inspect.signature(LSTMForecaster).parameters
    cli = inspect.signature(forecasting.fit).parameters
    assert cli["hidden_size"].default == library["hidden_size"].default
    # None on the command line means the library's automatic choice.
    assert cli["ensemble"].default is None and library["ensemble_size"].default == "auto"
    assert cli["seed"].default == library["random_state"].default
    assert library["max_steps"].default == "auto"


# --- one real process -------------------------------------------------------------------------


def test_python_dash_m_lstmlens_smoke(tmp_path: Path) -> None:
    env = {**os.environ, "LSTMLENS_DEBUG": ""}
    done = subprocess.run(
        [sys.executable, "-m", "lstmlens", "forecast", *FAST, "--levels", "80"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "embedded" in done.stdout
    assert len(pd.read_csv(tmp_path / "forecasts.csv")) == 24
    assert (tmp_path / "forecast.png").read_bytes().startswith(PNG_MAGIC)
