"""The HTML report: valid, self-contained, reads the trace, and opens cleanly in Chromium."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from _explain_models import monthly_data, tiny_forecaster
from lstmlens.explain._numbers import fixed
from lstmlens.explain.report import build_report, forecaster_repr_html, write_report
from lstmlens.forecaster import LSTMForecaster

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}
CHROMIUM = "/usr/bin/chromium"


class Checker(HTMLParser):
    """Checks nesting and collects every URL-like attribute and tag."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in {"src", "href", "action", "srcset", "data"} and value is not None:
                self.urls.append(value)
            if name == "id" and value:
                self.ids.add(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


@pytest.fixture(scope="module")
def report_html() -> str:
    return build_report(tiny_forecaster(), monthly_data(), series_id="s1")


def test_report_is_valid_and_self_contained(report_html: str) -> None:
    assert report_html.startswith("<!DOCTYPE html>")
    checker = Checker()
    checker.feed(report_html)
    checker.close()
    assert checker.stack == []
    assert "script" not in checker.tags and "link" not in checker.tags
    assert {"forecast", "accuracy", "walkthrough", "memory", "attribution"} <= checker.ids
    for url in checker.urls:
        assert url.startswith(("#", "data:image/png;base64,")), url[:60]
    assert "http://" not in report_html and "https://" not in report_html
    assert sum(url.startswith("data:") for url in checker.urls) == 4


def test_report_shows_the_traces_numbers(report_html: str) -> None:
    trace = tiny_forecaster().trace("s1")
    for value in trace.forecast:
        assert f"<td>{fixed(float(value), 3)}</td>" in report_html
    top = trace.network_trace.layers[-1]
    assert any(fixed(float(h)) in report_html for h in top.short_term_memory[0, -1])
    assert fixed(float(trace.network_trace.output[0, 0])) in report_html
    for model in ("LSTM", "Naive", "SeasonalNaive", "Naive2"):
        assert f"<td>{model}</td>" in report_html
    assert "out of sample" in report_html


def test_report_without_data_explains_how_to_get_accuracy() -> None:
    text = build_report(tiny_forecaster())
    assert "No data given" in text and "<td>Naive2</td>" not in text


def test_write_report_is_atomic_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_report(tiny_forecaster(), target)
    first = target.read_text(encoding="utf-8")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_report(tiny_forecaster(), target)
    write_report(tiny_forecaster(), target, overwrite=True, title="Again")
    assert "<title>Again</title>" in target.read_text(encoding="utf-8") != first
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_repr_html_and_errors() -> None:
    card = forecaster_repr_html(tiny_forecaster())
    assert "Forecast of series s0" in card and "half-life" in card
    assert "(not fitted)" in forecaster_repr_html(LSTMForecaster())
    with pytest.raises(ValueError, match="not fitted"):
        build_report(LSTMForecaster())
    with pytest.raises(ValueError, match="unknown series 'nope'"):
        build_report(tiny_forecaster(), series_id="nope")


@pytest.mark.browser
def test_report_opens_in_chromium_without_errors(report_html: str, tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    page_file = tmp_path / "report.html"
    page_file.write_text(report_html, encoding="utf-8")
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda r: errors.append(r.url) if r.url.startswith("http") else None)
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            loaded = page.evaluate(
                "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
            title = page.title()
        finally:
            browser.close()
    assert errors == []
    assert loaded == [True] * 4
    assert title == "lstmlens report: series s1"



def test_forecaster_repr_html_delegates_to_the_report_card() -> None:
    assert LSTMForecaster()._repr_html_() == forecaster_repr_html(LSTMForecaster())
    card = tiny_forecaster()._repr_html_()
    assert "Forecast of series s0" in card and "half-life" in card
