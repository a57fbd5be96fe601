"""The seed's worked example (DESIGN.md golden table) through the step and the network."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlens.cell import dense, lstm_step
from lstmlens.network import LSTMNetwork, LSTMState
from lstmlens.seed import (
    SEED_DENSE_BIAS,
    SEED_DENSE_WEIGHT,
    SEED_GATE_WEIGHTS,
    SEED_INPUT,
    SEED_LONG_TERM_MEMORY,
    SEED_SHORT_TERM_MEMORY,
    seed_parameters,
)

# The DESIGN.md table, rounded to 6 decimals there; hence the 1e-6 tolerance.
GOLDEN_SUMS = {"forget_gate": 6.40, "input_gate": 4.60, "candidate_memory": 0.75,
               "output_gate": 5.14}
GOLDEN_FORGET = 0.998341
GOLDEN_KEPT = 4.991706
GOLDEN_INPUT = 0.990048
GOLDEN_CANDIDATE = 0.635149
GOLDEN_OUTPUT = 0.994176
GOLDEN_LONG_TERM = 5.620534
GOLDEN_SHORT_TERM = 0.994150
GOLDEN_PREDICTION = 2.988301
TOLERANCE = 1e-6
GATE_INDEX = {"input_gate": 0, "forget_gate": 1, "candidate_memory": 2, "output_gate": 3}


def _seed_step():  # type: ignore[no-untyped-def]
    p = seed_parameters(np.float64)
    x = np.array([[SEED_INPUT]])
    h = np.array([[SEED_SHORT_TERM_MEMORY]])
    c = np.array([[SEED_LONG_TERM_MEMORY]])
    return lstm_step(x, h, c, p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"],
                     p["bias_hh_l0"])


def test_seed_weights_match_the_design_table() -> None:
    for gate, (w_x, w_h, bias) in SEED_GATE_WEIGHTS.items():
        total = w_x * SEED_INPUT + w_h * SEED_SHORT_TERM_MEMORY + bias
        assert total == pytest.approx(GOLDEN_SUMS[gate], abs=1e-12)


def test_seed_step_reproduces_every_golden_number() -> None:
    step = _seed_step()
    sums = step.weighted_sum[0]
    for gate, index in GATE_INDEX.items():
        assert sums[index] == pytest.approx(GOLDEN_SUMS[gate], abs=1e-12)
    assert step.forget_gate[0, 0] == pytest.approx(GOLDEN_FORGET, abs=TOLERANCE)
    assert step.kept_memory[0, 0] == pytest.approx(GOLDEN_KEPT, abs=TOLERANCE)
    assert step.input_gate[0, 0] == pytest.approx(GOLDEN_INPUT, abs=TOLERANCE)
    assert step.candidate_memory[0, 0] == pytest.approx(GOLDEN_CANDIDATE, abs=TOLERANCE)
    assert step.output_gate[0, 0] == pytest.approx(GOLDEN_OUTPUT, abs=TOLERANCE)
    assert step.long_term_memory[0, 0] == pytest.approx(GOLDEN_LONG_TERM, abs=TOLERANCE)
    assert step.short_term_memory[0, 0] == pytest.approx(GOLDEN_SHORT_TERM, abs=TOLERANCE)
    prediction = dense(step.short_term_memory, np.array([[SEED_DENSE_WEIGHT]]),
                       np.array([SEED_DENSE_BIAS]))
    assert prediction[0, 0] == pytest.approx(GOLDEN_PREDICTION, abs=TOLERANCE)


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_seed_example_through_the_network(backend: str) -> None:
    network = LSTMNetwork(seed_parameters(np.float64), backend=backend)  # type: ignore[arg-type]
    state = LSTMState(np.array([[[SEED_SHORT_TERM_MEMORY]]]), np.array([[[SEED_LONG_TERM_MEMORY]]]))
    result = network.forward(np.array([[[SEED_INPUT]]]), state, record_trace=True)
    assert result.output[0, 0] == pytest.approx(GOLDEN_PREDICTION, abs=TOLERANCE)
    assert result.final_state.long_term_memory[0, 0, 0] == pytest.approx(GOLDEN_LONG_TERM,
                                                                          abs=TOLERANCE)
    assert result.final_state.short_term_memory[0, 0, 0] == pytest.approx(GOLDEN_SHORT_TERM,
                                                                           abs=TOLERANCE)
    assert result.trace is not None
    step = result.trace.step(layer=0, time=0)
    assert step.forget_gate[0, 0] == pytest.approx(GOLDEN_FORGET, abs=TOLERANCE)
    assert step.kept_memory[0, 0] == pytest.approx(GOLDEN_KEPT, abs=TOLERANCE)
    assert step.input_gate[0, 0] == pytest.approx(GOLDEN_INPUT, abs=TOLERANCE)
    assert step.candidate_memory[0, 0] == pytest.approx(GOLDEN_CANDIDATE, abs=TOLERANCE)
    assert step.output_gate[0, 0] == pytest.approx(GOLDEN_OUTPUT, abs=TOLERANCE)
    for gate, index in GATE_INDEX.items():
        assert step.weighted_sum[0, index] == pytest.approx(GOLDEN_SUMS[gate], abs=1e-12)


def test_seed_example_streams_to_the_same_prediction() -> None:
    network = LSTMNetwork(seed_parameters(np.float64))
    state = LSTMState(np.array([[[SEED_SHORT_TERM_MEMORY]]]), np.array([[[SEED_LONG_TERM_MEMORY]]]))
    streamer = network.stream(state=state)
    assert streamer.push(SEED_INPUT)[0, 0] == pytest.approx(GOLDEN_PREDICTION, abs=TOLERANCE)


def test_seed_example_in_float32_stays_within_float32_tolerance() -> None:
    network = LSTMNetwork(seed_parameters(np.float32))
    state = LSTMState(np.array([[[SEED_SHORT_TERM_MEMORY]]], np.float32),
                      np.array([[[SEED_LONG_TERM_MEMORY]]], np.float32))
    result = network.forward(np.array([[[SEED_INPUT]]], np.float32), state)
    assert result.output.dtype == np.float32
    assert result.output[0, 0] == pytest.approx(GOLDEN_PREDICTION, abs=5e-6)
