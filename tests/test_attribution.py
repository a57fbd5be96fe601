"""Gradient x input through time agrees with finite differences; the head reading adds up."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlens.explain.attribution import input_attributions, read_head, trace_attributions
from lstmlens.network import LSTMNetwork, LSTMState


def _network() -> LSTMNetwork:
    return LSTMNetwork.initialize(3, 4, num_layers=2, output_size=2, dtype=np.float64,
                                  random_state=5)


def _finite_differences(network: LSTMNetwork, window: np.ndarray, output: int | None,
                        state: LSTMState | None = None, eps: float = 1e-6) -> np.ndarray:
    def predict(x: np.ndarray) -> float:
        out = network.forward(x[None], state).output[0]
        return float(out.sum() if output is None else out[output])

    grads = np.zeros_like(window)
    for index in np.ndindex(window.shape):
        up, down = window.copy(), window.copy()
        up[index] += eps
        down[index] -= eps
        grads[index] = (predict(up) - predict(down)) / (2 * eps)
    return grads


@pytest.mark.parametrize("output", [0, 1, None])
def test_gradients_match_finite_differences(output: int | None) -> None:
    network = _network()
    window = np.random.default_rng(2).normal(size=(5, 3))
    state = LSTMState(*np.random.default_rng(3).normal(size=(2, 2, 1, 4)))
    attribution = input_attributions(network, window, initial_state=state, output=output)
    expected = _finite_differences(network, window, output, state)
    np.testing.assert_allclose(attribution.gradients, expected, atol=1e-8)
    np.testing.assert_allclose(attribution.values, window * expected, atol=1e-8)
    assert attribution.values.shape == (5, 3)


def test_trace_attributions_reuse_the_traced_window_and_start() -> None:
    network = _network()
    inputs = np.random.default_rng(6).normal(size=(2, 5, 3))
    state = LSTMState(*np.random.default_rng(7).normal(size=(2, 2, 2, 4)))
    trace = network.forward(inputs, state, record_trace=True).trace
    assert trace is not None
    attribution = trace_attributions(network, trace, row=1, output=1,
                                     feature_names=["a", "b", "c"])
    row_state = LSTMState(state.short_term_memory[:, 1:2], state.long_term_memory[:, 1:2])
    expected = _finite_differences(network, inputs[1], 1, row_state)
    np.testing.assert_allclose(attribution.gradients, expected, atol=1e-8)
    # A one-row rerun may round differently from the two-row trace in the last bit.
    assert attribution.prediction == pytest.approx(trace.output[1, 1], rel=1e-12)
    top = attribution.top(2)
    assert abs(top[0][2]) >= abs(top[1][2]) and top[0][1] in "abc"
    assert attribution.by_step().shape == (5,) and attribution.by_feature().shape == (3,)
    assert "Inputs that moved output 1 most" in attribution.to_text()


def test_a_different_network_is_refused() -> None:
    network = _network()
    trace = network.forward(np.ones((1, 4, 3)), record_trace=True).trace
    assert trace is not None
    other = LSTMNetwork.initialize(3, 4, num_layers=2, output_size=2, dtype=np.float64,
                                   random_state=99)
    with pytest.raises(ValueError, match="does not reproduce this trace"):
        trace_attributions(other, trace)


def test_head_reading_adds_up_to_the_prediction() -> None:
    network = _network()
    trace = network.forward(np.random.default_rng(8).normal(size=(1, 4, 3)),
                            record_trace=True).trace
    assert trace is not None
    reading = read_head(trace)
    np.testing.assert_allclose(reading.contributions.sum(axis=1) + reading.bias, trace.output[0])
    assert reading.unit_importance().shape == (4,)
    assert reading.to_text().count("output ") == 2
