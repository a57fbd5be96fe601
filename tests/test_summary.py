"""Memory summaries on constructed traces whose gates are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmlens.explain import half_life, summarize_layer, summarize_trace
from lstmlens.explain.summary import most_active_unit
from lstmlens.network import LSTMNetwork
from lstmlens.trace import LayerTrace


def _layer(input_gate: np.ndarray, forget_gate: np.ndarray, candidate: np.ndarray,
           output_gate: np.ndarray) -> LayerTrace:
    """A one-row LayerTrace with the given gates (T, H) and memories that follow them."""
    steps, hidden = forget_gate.shape
    c = np.zeros(hidden)
    long_term = np.empty((steps, hidden))
    for t in range(steps):
        c = forget_gate[t] * c + input_gate[t] * candidate[t]
        long_term[t] = c
    short_term = output_gate * np.tanh(long_term)
    gates = np.concatenate([input_gate, forget_gate, candidate, output_gate], axis=1)
    start = np.zeros((1, hidden))  # h_0 = c_0 = 0
    return LayerTrace(inputs=np.zeros((1, steps, 1)), initial_short_term_memory=start,
                      initial_long_term_memory=start, gates=gates[None],
                      long_term_memory=long_term[None], short_term_memory=short_term[None],
                      bias=np.zeros(4 * hidden))


def test_half_life_of_known_forget_gates() -> None:
    values = half_life([0.5, 0.25, 0.95, 1.0, 0.0])
    assert values[0] == pytest.approx(1.0)
    assert values[1] == pytest.approx(0.5)
    assert values[2] == pytest.approx(math.log(0.5) / math.log(0.95))  # about 13.5 steps
    assert values[3] == math.inf
    assert 0.0 <= values[4] < 0.01


def test_constant_forget_gate_gives_its_half_life_and_survival() -> None:
    steps = 10
    forget = np.column_stack([np.full(steps, 0.5), np.full(steps, 0.95), np.ones(steps)])
    half = np.full((steps, 3), 0.5)
    summary = summarize_layer(_layer(half, forget, np.zeros((steps, 3)), half))
    first, second, third = summary.units
    assert first.typical_forget_gate == pytest.approx(0.5)
    assert first.half_life == pytest.approx(1.0)
    assert first.kept_over_window == pytest.approx(0.5**steps)
    assert second.half_life == pytest.approx(13.513, abs=1e-3)
    assert third.half_life == math.inf and third.kept_over_window == 1.0
    assert "half-life of 1.0 steps" in first.to_text()
    assert "half-life of inf steps" in third.to_text()


def test_saturation_counts_and_memory_events() -> None:
    forget = np.array([[0.99], [0.99], [0.02], [0.6], [0.97], [0.3]])
    input_gate = np.array([[0.01], [0.98], [0.5], [0.99], [0.03], [0.5]])
    candidate = np.array([[0.1], [0.97], [-0.99], [-0.8], [0.2], [0.0]])
    output = np.array([[0.5], [0.5], [0.5], [0.01], [0.99], [0.5]])
    summary = summarize_layer(_layer(input_gate, forget, candidate, output),
                              step_labels=[f"t{k}" for k in range(6)])
    (unit,) = summary.units
    counts = {s.gate: (s.low, s.high) for s in unit.saturation}
    assert counts == {"input_gate": (2, 2), "forget_gate": (1, 3), "candidate_memory": (1, 1),
                      "output_gate": (1, 1)}
    # Writes: |i g| >= 0.5 at t1 (0.9506) and t3 (-0.792); erasures: f < 0.5 at t2, t5.
    assert [(e.label, round(e.amount, 4)) for e in unit.writes] == [("t1", 0.9506),
                                                                    ("t3", -0.792)]
    assert [(e.label, e.amount) for e in unit.erasures] == [("t2", 0.02), ("t5", 0.3)]
    text = summary.to_text()
    assert "written most at t1 (+0.9506), t3 (-0.792)" in text
    assert "erased at t2 (f=0.02), t5 (f=0.30)" in text
    assert "forget gate (f_t) shut 16.7% and open 50.0% of steps" in text


def test_summary_of_a_real_trace_and_most_active_unit() -> None:
    network = LSTMNetwork.initialize(2, 5, num_layers=2, output_size=2, dtype=np.float64,
                                     random_state=1)
    trace = network.forward(np.random.default_rng(0).normal(size=(1, 8, 2)),
                            record_trace=True).trace
    assert trace is not None
    summary = summarize_trace(trace)
    assert summary.layer == 1 and len(summary.units) == 5
    for unit in summary.units:
        forget = trace.layers[1].forget_gate[0, :, unit.unit]
        assert unit.kept_over_window == pytest.approx(float(np.prod(forget)))
        assert unit.final_long_term_memory == trace.layers[1].long_term_memory[0, -1, unit.unit]
    scores = np.abs(trace.head_contributions[0]).sum(axis=0)
    assert most_active_unit(trace) == int(np.argmax(scores))
    assert most_active_unit(trace, layer=0, time=3) == int(
        np.argmax(np.abs(trace.layers[0].short_term_memory[0, 3])))
    assert summary.to_dict()["units"][0]["unit"] == 0
    with pytest.raises(ValueError, match="unit=7 is out of range"):
        summarize_trace(trace, units=[7])
