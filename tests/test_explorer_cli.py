"""``lstmlens explore``: in-process with the server stubbed, and one real subprocess run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import httpx  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from _explorer_model import tiny_model  # noqa: E402
from lstmlens.cli import app  # noqa: E402
from lstmlens.commands import exploring  # noqa: E402
from lstmlens.explorer import server  # noqa: E402


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("explore")
    forecaster, panel = tiny_model()
    model_path = folder / "tiny.lstmlens"
    forecaster.save(model_path)
    data_path = folder / "air.csv"
    panel.to_frame().to_csv(data_path, index=False)
    return model_path, data_path


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake_serve(app: Any, **options: Any) -> None:
        calls.append({"app": app, **options})

    monkeypatch.setattr(server, "serve", fake_serve)
    return calls


def test_explore_a_saved_model_prints_the_url(saved: tuple[Path, Path], served: list[Any]) -> None:
    model_path, data_path = saved
    port = _free_port()
    result = CliRunner().invoke(
        app, ["explore", str(model_path), str(data_path), "--no-browser", "--port", str(port)]
    )
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{port}/" in result.output
    (call,) = served
    assert call["host"] == "127.0.0.1" and call["port"] == port
    assert call["open_browser"] is False
    session = call["app"].state.explorer.session
    assert session.panel is not None and session.source == "tiny.lstmlens"


def test_explore_without_arguments_trains_a_demo(
    served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(exploring.DEMO_SETTINGS, "max_steps", 3)
    result = CliRunner().invoke(app, ["explore", "--no-browser", "--port", str(_free_port())])
    assert result.exit_code == 0, result.output
    assert "embedded monthly airline passengers" in result.output
    session = served[0]["app"].state.explorer.session
    assert session.series_ids == ["AirPassengers"]
    assert session.model_view()["model"]["window"] == exploring.DEMO_SETTINGS["input_size"]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["missing.lstmlens"], "model file missing.lstmlens not found"),
        (["missing.csv"], "data file missing.csv not found"),
        (["{model}", "missing.csv"], "data file missing.csv not found"),
        (["{data}", "{data}"], "air.csv"),
        (["{model}", "--port", "0"], "--port"),
    ],
)
def test_explore_bad_arguments_fail_in_one_line(
    saved: tuple[Path, Path], served: list[Any], arguments: list[str], words: str
) -> None:
    model_path, data_path = saved
    filled = [a.format(model=model_path, data=data_path) for a in arguments]
    result = CliRunner().invoke(app, ["explore", *filled, "--no-browser"])
    assert result.exit_code == 2
    assert words in result.output
    assert "Traceback" not in result.output
    assert not served


def test_explore_refuses_a_port_in_use(saved: tuple[Path, Path], served: list[Any]) -> None:
    model_path, _ = saved
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["explore", str(model_path), "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert not served


def test_exposed_hosts_get_a_loud_warning() -> None:
    assert server.exposure_warning("127.0.0.1") is None
    assert server.exposure_warning("localhost") is None
    warning = server.exposure_warning("0.0.0.0")
    assert warning is not None and "WARNING" in warning and "0.0.0.0" in warning


def test_explore_runs_as_a_real_server(saved: tuple[Path, Path]) -> None:
    model_path, data_path = saved
    port = _free_port()
    command = [sys.executable, "-m", "lstmlens", "explore", str(model_path), str(data_path),
               "--no-browser", "--port", str(port)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        response = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"{base}/api/model", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, process.stderr.read().decode() if process.stderr else ""
        assert response.status_code == 200
        assert response.json()["series_ids"] == ["AirPassengers", "Doubled"]
        assert httpx.get(f"{base}/api/step/AirPassengers", params={"step": 99}).status_code == 422
        rebound = httpx.get(f"{base}/api/model", headers={"host": f"rebind.example:{port}"})
        assert rebound.status_code == 421
        assert httpx.get(f"{base}/").status_code == 200
    finally:
        process.terminate()
        output, errors = process.communicate(timeout=20)
    assert f"{base}/" in output.decode()
    assert "Traceback" not in errors.decode()


def test_explore_without_the_web_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from typer.testing import CliRunner

    from lstmlens.cli import app

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fastapi" else real_find_spec(name, *a))
    result = CliRunner().invoke(app, ["explore", "--no-browser"])
    assert result.exit_code == 2
    assert "pip install 'lstmlens[explorer]'" in result.output
    assert "Traceback" not in result.output
