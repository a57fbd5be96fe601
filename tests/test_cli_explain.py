"""The explaining commands: walkthrough, explain, report, figures; errors exit 2 in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _explain_models import monthly_data, tiny_forecaster
from lstmlens.cli import app
from lstmlens.explain import seed_walkthrough

runner = CliRunner()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.lstmlens"
    tiny_forecaster().save(path)
    return path


def _error_line(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 2, (result.exit_code, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    return lines[0]


def test_walkthrough_prints_the_seed_example_in_each_format() -> None:
    text = runner.invoke(app, ["walkthrough"])
    assert text.exit_code == 0
    assert text.stdout == seed_walkthrough().to_text()
    assert "= 4.991706 + 0.628828 = 5.620534" in text.stdout
    markdown = runner.invoke(app, ["walkthrough", "--format", "markdown"])
    assert markdown.stdout.startswith("## The seed's worked example")
    data = json.loads(runner.invoke(app, ["walkthrough", "-F", "json"]).stdout)
    assert data["dense"]["value"] == pytest.approx(2.988301, abs=5e-7)


def test_explain_narrates_the_chosen_step(model_file: Path) -> None:
    result = runner.invoke(app, ["explain", str(model_file), "--series", "s1", "--step", "3",
                                 "--layer", "0", "--unit", "2"])
    assert result.exit_code == 0, result.stderr
    trace = tiny_forecaster().trace("s1")
    assert result.stdout.startswith(f"What the LSTM did at step 3 ({trace.step_labels[3]}), "
                                    "layer 0, unit 2")
    assert "Dense layer" not in result.stdout
    last = runner.invoke(app, ["explain", str(model_file), "-F", "json"])
    data = json.loads(last.stdout)
    assert data["dense"]["value_original_units"] == pytest.approx(
        float(tiny_forecaster().trace().forecast[0]))


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--series", "nope"], "unknown series 'nope'"),
     (["--step", "12"], "step=12 is out of range"),
     (["--unit", "4"], "unit=4 is out of range"),
     (["--layer", "2"], "layer=2 is out of range"),
     (["--horizon-step", "4"], "output=4 is out of range")],
)
def test_explain_rejects_bad_requests(model_file: Path, options: list[str], message: str) -> None:
    result = runner.invoke(app, ["explain", str(model_file), *options])
    assert message in _error_line(result)


def test_missing_or_damaged_model_files(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["explain", str(tmp_path / "none.lstmlens")])
    assert "not found" in _error_line(missing)
    damaged = tmp_path / "damaged.lstmlens"
    damaged.write_bytes(b"not a model")
    _error_line(runner.invoke(app, ["report", str(damaged), "-o", str(tmp_path / "r.html")]))
    _error_line(runner.invoke(app, ["figures", str(damaged), "-o", str(tmp_path / "figs")]))


def test_report_writes_html_and_refuses_to_overwrite(model_file: Path, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    monthly_data().to_csv(data, index=False)
    target = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(model_file), str(data), "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert "<td>Naive2</td>" in target.read_text(encoding="utf-8")
    again = runner.invoke(app, ["report", str(model_file), "-o", str(target)])
    assert again.exit_code == 3 and "--force" in again.stderr
    missing_data = runner.invoke(app, ["report", str(model_file), str(tmp_path / "no.csv"),
                                       "-o", str(target), "--force"])
    assert "data file" in _error_line(missing_data)


def test_figures_writes_png_and_svg(model_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    result = runner.invoke(app, ["figures", str(model_file), "--series", "s0", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{stem}.{ext}" for stem in ("activation_curves", "attribution",
                                                        "memory_timeline", "unit_diagram")
                           for ext in ("png", "svg"))
    refused = runner.invoke(app, ["figures", str(model_file), "-o", str(out)])
    assert refused.exit_code == 3


def test_walkthrough_runs_as_a_real_subprocess() -> None:
    completed = subprocess.run([sys.executable, "-m", "lstmlens", "walkthrough"],
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "2.988301" in completed.stdout and completed.stderr == ""
