"""Figures render headless, save as PNG of the expected size and as SVG that parses."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from lstmlens.explain import narrate_trace, seed_walkthrough  # noqa: E402
from lstmlens.explain.attribution import trace_attributions  # noqa: E402
from lstmlens.explain.figures import (  # noqa: E402
    activation_curves,
    attribution_figure,
    figure_bytes,
    memory_timeline,
    save_figure,
    unit_diagram,
)
from lstmlens.network import LSTMNetwork  # noqa: E402
from lstmlens.trace import NetworkTrace  # noqa: E402


@dataclass(frozen=True)
class FakeForecastTrace:
    """The ForecastTrace contract, filled from a real network: 4 steps of 3 values each."""

    series_id: str
    network_trace: NetworkTrace
    inputs: np.ndarray
    feature_names: list[str]
    step_labels: list[str]
    history: np.ndarray
    history_index: Any
    forecast: np.ndarray
    forecast_index: Any
    level: float


@pytest.fixture(scope="module")
def network_and_trace() -> tuple[LSTMNetwork, NetworkTrace]:
    network = LSTMNetwork.initialize(3, 3, num_layers=1, output_size=2, dtype=np.float64,
                                     random_state=0)
    trace = network.forward(np.random.default_rng(0).normal(size=(1, 4, 3)),
                            record_trace=True).trace
    assert trace is not None
    return network, trace


def _check_saved(fig: Figure, tmp_path: Path, name: str) -> None:
    png, svg = save_figure(fig, tmp_path / "nested" / name)
    width, height = fig.get_size_inches() * fig.dpi
    image = imread(png)
    assert image.shape[:2] == (round(height), round(width))
    assert image.std() > 0.01  # not a blank canvas
    root = ElementTree.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert not list(tmp_path.glob("nested/.*"))  # no temporary files left behind


def test_unit_diagram_of_the_seed(tmp_path: Path) -> None:
    fig = unit_diagram(seed_walkthrough())
    texts = " ".join(text.get_text() for text in fig.axes[0].texts)
    for value in ("0.998341", "0.990048", "0.635149", "5.620534", "0.994150", "2.988301"):
        assert value in texts
    _check_saved(fig, tmp_path, "diagram")


def test_unit_diagram_of_a_step_without_dense(network_and_trace: Any, tmp_path: Path) -> None:
    network, trace = network_and_trace
    fig = unit_diagram(narrate_trace(trace, time=1, unit=2, parameters=network.parameters))
    assert "Dense" not in " ".join(text.get_text() for text in fig.axes[0].texts)
    assert figure_bytes(fig).startswith(b"\x89PNG")


def test_activation_curves(tmp_path: Path) -> None:
    fig = activation_curves(seed_walkthrough())
    assert len(fig.axes) == 2
    _check_saved(fig, tmp_path, "curves")


def test_memory_timeline_of_a_network_trace(network_and_trace: Any, tmp_path: Path) -> None:
    _, trace = network_and_trace
    fig = memory_timeline(trace, series=np.arange(12.0), units=[0, 2])
    assert len(fig.axes) == 5  # series + (memory, gates) per unit
    memory_line = fig.axes[1].lines[0]
    np.testing.assert_array_equal(memory_line.get_ydata(),
                                  trace.layers[0].long_term_memory[0, :, 0])
    np.testing.assert_array_equal(memory_line.get_xdata(), [2, 5, 8, 11])  # last value per step
    _check_saved(fig, tmp_path, "timeline")


def test_memory_timeline_of_a_forecast_trace(network_and_trace: Any, tmp_path: Path) -> None:
    _, trace = network_and_trace
    fake = FakeForecastTrace("s1", trace, trace.layers[0].inputs[0], ["a", "b", "c"],
                             [f"day {k}" for k in range(4)], np.arange(12.0) + 10,
                             list(range(12)), np.array([30.0, 31.0]), [12, 13], 10.0)
    fig = memory_timeline(fake, max_units=1)
    assert len(fig.axes) == 3
    forecast_line = fig.axes[0].lines[1]
    np.testing.assert_array_equal(forecast_line.get_ydata(), [21.0, 30.0, 31.0])
    _check_saved(fig, tmp_path, "timeline_forecast")


def test_attribution_figure(network_and_trace: Any, tmp_path: Path) -> None:
    network, trace = network_and_trace
    fig = attribution_figure(trace_attributions(network, trace, output=0))
    image = fig.axes[0].images[0]
    np.testing.assert_array_equal(image.get_array(),
                                  trace_attributions(network, trace, output=0).values)
    _check_saved(fig, tmp_path, "attribution")
