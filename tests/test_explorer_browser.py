"""The explorer page in a real browser: Debian's Chromium driven through Playwright.

Starts the app with uvicorn on a free 127.0.0.1 port, loads the page, moves the time slider and
applies a what-if edit, comparing what the page shows with the engine's trace in Python. A
screenshot goes to ``tmp_path`` (and to ``$LSTMLENS_ARTIFACTS`` when that is set).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from _explorer_model import tiny_model  # noqa: E402
from lstmlens.cell import GATE_ORDER  # noqa: E402
from lstmlens.explorer import create_app, start_in_thread  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERIES = "AirPassengers"
TIMEOUT_MS = 15_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def model() -> Any:
    return tiny_model()


@pytest.fixture(scope="module")
def server(model: Any) -> Iterator[str]:
    forecaster, panel = model
    running = start_in_thread(
        create_app(forecaster, panel, source="test model"), "127.0.0.1", _free_port()
    )
    try:
        yield running.url
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium "
                    "(apt-get install chromium); the browser tests need it.")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(f"console {message.type}: "
                                                        f"{message.text}")
              if message.type in ("error", "warning") else None)
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    foreign: list[str] = []
    opened.on("request", lambda request: None if request.url.startswith(server)
              else foreign.append(request.url))
    opened.set_default_timeout(TIMEOUT_MS)
    opened.goto(server)
    opened.wait_for_selector("#unit-diagram .gate")
    yield opened, problems
    assert not foreign, f"the page fetched something outside the app: {foreign}"
    context.close()


def _shown(page: Any, field: str) -> float:
    return float(page.get_attribute(f'#unit-diagram [data-field="{field}"]', "data-value"))


def _check_step(page: Any, network_trace: Any, layer: int, unit: int, step: int) -> None:
    expected = network_trace.step(layer, step)
    hidden = network_trace.layers[layer].hidden_size
    for index, gate in enumerate(GATE_ORDER):
        row = index * hidden + unit
        assert _shown(page, f"{gate}.value") == float(getattr(expected, gate)[0, unit])
        assert _shown(page, f"{gate}.weighted_sum") == float(expected.weighted_sum[0, row])
        assert _shown(page, f"{gate}.input_part") == float(expected.input_part[0, row])
    assert _shown(page, "long_term_memory") == float(expected.long_term_memory[0, unit])
    assert _shown(page, "short_term_memory") == float(expected.short_term_memory[0, unit])
    assert _shown(page, "previous_long_term_memory") == float(
        expected.previous_long_term_memory[0, unit]
    )
    assert _shown(page, "kept_memory") == float(expected.kept_memory[0, unit])


def _save(page: Any, tmp_path: Path, name: str) -> Path:
    """Screenshot the whole page to ``tmp_path``, and to the artifacts folder if asked.

    ``LSTMLENS_ARTIFACTS=1`` copies it to ``test-artifacts/`` at the repository root; any
    other value names the folder.
    """
    shot = tmp_path / name
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot), full_page=True)
    wanted = os.environ.get("LSTMLENS_ARTIFACTS", "").strip()
    if wanted:
        root = Path(__file__).resolve().parent.parent
        folder = root / "test-artifacts" if wanted.lower() in ("1", "true", "yes") else Path(wanted)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, folder / name)
    return shot


def test_page_loads_and_shows_the_last_step(page: Any, model: Any, tmp_path: Path) -> None:
    opened, problems = page
    forecaster, _ = model
    trace = forecaster.trace(SERIES)
    network_trace = trace.network_trace
    top = len(network_trace.layers) - 1
    last = network_trace.layers[0].steps - 1
    diagram = opened.locator("#unit-diagram")
    assert diagram.get_attribute("data-step") == str(last)
    assert diagram.get_attribute("data-layer") == str(top)
    _check_step(opened, network_trace, top, 0, last)
    assert _shown(opened, "dense.forecast") == pytest.approx(float(trace.forecast[0]))
    assert "Forget gate" in opened.inner_text("#meanings")
    rows = opened.locator("#forecast-table tbody tr")
    assert rows.count() == len(trace.forecast)
    assert opened.locator("#series-chart #forecast-line").count() == 1
    assert _save(opened, tmp_path, "explorer.png").stat().st_size > 10_000
    assert not problems, problems


def test_slider_moves_the_numbers_to_that_step(page: Any, model: Any, tmp_path: Path) -> None:
    opened, problems = page
    forecaster, _ = model
    network_trace = forecaster.trace(SERIES).network_trace
    opened.select_option("#layer-select", "0")
    opened.select_option("#unit-select", "2")
    opened.wait_for_selector('#unit-diagram[data-layer="0"][data-unit="2"]')
    slider = opened.locator("#step-slider")
    slider.focus()
    opened.keyboard.press("Home")
    opened.wait_for_selector('#unit-diagram[data-step="0"]')
    _check_step(opened, network_trace, 0, 2, 0)
    for _ in range(3):
        opened.keyboard.press("ArrowRight")
    opened.wait_for_selector('#unit-diagram[data-step="3"]')
    _check_step(opened, network_trace, 0, 2, 3)
    assert "step 4 of" in opened.inner_text("#step-label")
    opened.click("#next-step")
    opened.wait_for_selector('#unit-diagram[data-step="4"]')
    _check_step(opened, network_trace, 0, 2, 4)
    assert not problems, problems


def test_whatif_edit_changes_the_forecast(page: Any, model: Any, tmp_path: Path) -> None:
    opened, problems = page
    forecaster, _ = model
    trace = forecaster.trace(SERIES)
    last = trace.network_trace.layers[0].steps - 1
    before = opened.get_attribute('[data-field="forecast.0"]', "data-value")
    opened.select_option("#edit-input-step", str(last))
    opened.select_option("#edit-input-feature", "0")
    opened.fill("#edit-input-value", "3")
    opened.click("#apply-input")
    opened.wait_for_selector('#unit-diagram[data-edits="1"]')
    opened.wait_for_selector("#whatif-line")
    assert opened.is_visible("#whatif-badge")
    inputs = np.array(trace.inputs, copy=True)
    inputs[last, 0] = 3.0
    output = forecaster.network_.forward(inputs[None], record_trace=True).output[0]
    expected = np.asarray(trace.to_original_units(output), dtype=np.float64).ravel()
    shown = [
        float(opened.get_attribute(f'[data-field="whatif.{k}"]', "data-value"))
        for k in range(len(expected))
    ]
    assert shown == pytest.approx(expected.tolist(), rel=1e-12)
    assert opened.get_attribute('[data-field="forecast.0"]', "data-value") == before
    assert shown[0] != pytest.approx(float(before))
    _save(opened, tmp_path, "explorer-whatif.png")
    opened.click("#reset-edits")
    opened.wait_for_selector('#unit-diagram[data-edits="0"]')
    assert opened.locator("#whatif-line").count() == 0
    assert not problems, problems
