"""lstmlens.compile_ahead: a helper process compiles the forecasting kernels on a first run."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest

from lstmlens import compile_ahead, kernels, sequences
from lstmlens.network import LSTMNetwork


@pytest.fixture(autouse=True)
def _no_helper_left(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test starts with no helper and stops any it started."""
    monkeypatch.setattr(compile_ahead, "_helper", None)
    yield
    compile_ahead._stop()


def _cold(monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    """As on a first run (nothing on disk, two CPUs), with ``command`` as the helper."""
    monkeypatch.setattr(compile_ahead, "forecasting_compiled", lambda: False)
    monkeypatch.setattr(compile_ahead.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(compile_ahead, "helper_command", lambda dtype: command)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.skipif(numba.get_num_threads() < 2, reason="the parallel kernels need 2 threads")
def test_the_helper_runs_every_forecasting_kernel(dtype: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Its passes must go down each way of sharing a forecasting pass out, or the first run
    # compiles the missed kernel in the main process after all.
    ran: list[str] = []

    def recording(kernel: Any) -> Any:
        def run(*args: Any) -> Any:
            ran.append(kernel.__name__)
            first_array = next(a for a in args if isinstance(a, np.ndarray))
            assert first_array.dtype == np.dtype(dtype)
            return kernel(*args)
        return run

    monkeypatch.setitem(kernels._FORWARD_KERNELS, False,
                        tuple(recording(k) for k in kernels._FORWARD_KERNELS[False]))
    compile_ahead.compile_forecasting(dtype)
    assert sorted(set(ran)) == sorted(k.__name__ for k in compile_ahead.FORECASTING_KERNELS)


def test_the_forecasting_kernels_are_the_forward_passes_that_keep_nothing() -> None:
    assert set(compile_ahead.FORECASTING_KERNELS) == set(kernels._FORWARD_KERNELS[False])
    assert sequences.forward_keep not in compile_ahead.FORECASTING_KERNELS


def test_the_helper_command_compiles_for_the_dtype() -> None:
    command = compile_ahead.helper_command(np.float64)
    assert command[0] == sys.executable
    assert "compile_forecasting('float64')" in command[-1]


def test_a_helper_is_started_once_and_waited_for(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    done = tmp_path / "done"
    _cold(monkeypatch, _python(f"import time, pathlib; time.sleep(0.5); "
                               f"pathlib.Path({str(done)!r}).write_text('ok')"))
    assert compile_ahead.start("float32")
    assert not compile_ahead.start("float32")  # one is running
    compile_ahead.wait()
    assert done.read_text() == "ok"
    assert compile_ahead._helper is None
    compile_ahead.wait()  # nothing to wait for: returns at once


@pytest.mark.parametrize("reason", ["cached", "one CPU"])
def test_no_helper_when_it_would_not_help(reason: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _cold(monkeypatch, _python("pass"))
    if reason == "cached":
        monkeypatch.setattr(compile_ahead, "forecasting_compiled", lambda: True)
    else:
        monkeypatch.setattr(compile_ahead.os, "cpu_count", lambda: 1)
    assert not compile_ahead.start("float32")
    assert compile_ahead._helper is None


def test_a_failing_helper_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _cold(monkeypatch, _python("raise SystemExit(3)"))
    assert compile_ahead.start("float32")
    compile_ahead.wait()  # the main process then compiles on its own


def test_a_helper_that_cannot_start_is_not_an_error(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    _cold(monkeypatch, [str(tmp_path / "no-such-program")])
    assert not compile_ahead.start("float32")
    assert compile_ahead._helper is None


def test_a_helper_past_the_wait_limit_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    _cold(monkeypatch, _python("import time; time.sleep(60)"))
    monkeypatch.setattr(compile_ahead, "WAIT_LIMIT_S", 0.2)
    assert compile_ahead.start("float32")
    helper = compile_ahead._helper
    assert helper is not None
    started = time.perf_counter()
    compile_ahead.wait()
    assert time.perf_counter() - started < 30
    assert helper.poll() is not None  # killed, not left running


def test_a_helper_is_stopped_when_the_process_no_longer_needs_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _cold(monkeypatch, _python("import time; time.sleep(60)"))
    assert compile_ahead.start("float32")
    helper = compile_ahead._helper
    assert helper is not None
    compile_ahead._stop()  # what exiting before any forecast does
    assert helper.poll() is not None


def test_forecasting_passes_wait_for_the_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[bool] = []
    monkeypatch.setattr(compile_ahead, "wait", lambda: waits.append(True))
    network = LSTMNetwork.initialize(2, 4, dtype=np.float32, random_state=0)
    x = np.zeros((3, 5, 2), np.float32)
    network.forward(x, keep_for_backward=True)
    assert not waits  # training passes compile their own kernels meanwhile
    network.forward(x)
    assert waits


@pytest.mark.parametrize("cached", [True, False])
def test_a_fit_on_a_cold_cache_starts_the_helper(cached: bool,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from lstmlens.forecaster import LSTMForecaster

    started: list[str] = []
    monkeypatch.setattr(kernels, "compiled_on_disk", lambda: cached)
    monkeypatch.setattr(compile_ahead, "start", lambda dtype: started.append(str(dtype)))
    series = np.sin(np.arange(60) / 3.0) + 2.0
    LSTMForecaster(horizon=2, input_size=8, season=1, hidden_size=4, max_steps=2,
                   ensemble_size=1, n_jobs=1, random_state=0, progress=False).fit(series)
    assert started == ([] if cached else ["float32"])
