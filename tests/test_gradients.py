"""Finite-difference checks (float64) of every gradient the network returns, both backends.

The loss touches the head output and both final memories, so every path through the
network is exercised: L = sum(output * r_out) + sum(h_T * r_h) + sum(c_T * r_c).
Central differences with step 1e-6 agree with the analytic gradients to about 1e-8; the
test allows 1e-6 absolute + 1e-5 relative.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from lstmlens.network import LSTMNetwork, LSTMState

# (layers, features, batch, steps, hidden, outputs): every edge of the allowed ranges.
SHAPES = [
    (1, 1, 1, 1, 1, 1),
    (1, 3, 4, 7, 3, 1),
    (2, 2, 1, 5, 2, 2),
    (2, 1, 3, 3, 4, 1),
    (2, 3, 2, 7, 3, 3),
]
STEP = 1e-6


def _problem(shape: tuple[int, ...], backend: str):  # type: ignore[no-untyped-def]
    layers, features, batch, steps, hidden, outputs = shape
    rng = np.random.default_rng(sum(shape))
    network = LSTMNetwork.initialize(features, hidden, layers, outputs, dtype=np.float64,
                                     random_state=rng, backend=backend)  # type: ignore[arg-type]
    for value in network.parameters.values():  # larger weights: gates far from 0.5
        value *= 2.0
    inputs = rng.standard_normal((batch, steps, features))
    state = LSTMState(rng.standard_normal((layers, batch, hidden)) * 0.5,
                      rng.standard_normal((layers, batch, hidden)))
    weights = (rng.standard_normal((batch, outputs)),
               rng.standard_normal((layers, batch, hidden)),
               rng.standard_normal((layers, batch, hidden)))
    return network, inputs, state, weights


def _loss(network: LSTMNetwork, inputs: np.ndarray, state: LSTMState,
          weights: tuple[np.ndarray, ...]) -> float:
    result = network.forward(inputs, state)
    return float(np.sum(result.output * weights[0])
                 + np.sum(result.final_state.short_term_memory * weights[1])
                 + np.sum(result.final_state.long_term_memory * weights[2]))


def _numeric(array: np.ndarray, loss: Callable[[], float]) -> np.ndarray:
    grad = np.empty_like(array)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for index in range(flat.size):
        original = flat[index]
        flat[index] = original + STEP
        plus = loss()
        flat[index] = original - STEP
        minus = loss()
        flat[index] = original
        out[index] = (plus - minus) / (2 * STEP)
    return grad


@pytest.mark.parametrize("backend", ["compiled", "reference"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "L{}-I{}-B{}-T{}-H{}-O{}".format(*s))
def test_every_gradient_matches_finite_differences(shape: tuple[int, ...], backend: str) -> None:
    if backend == "reference" and shape[3] > 5:
        pytest.skip("the reference backend is checked on the shorter sequences (slow loop)")
    network, inputs, state, weights = _problem(shape, backend)
    result = network.forward(inputs, state, keep_for_backward=True)
    grads = network.backward(result, weights[0], LSTMState(weights[1], weights[2]))

    def loss() -> float:
        return _loss(network, inputs, state, weights)

    def check(name: str, analytic: np.ndarray, array: np.ndarray) -> None:
        np.testing.assert_allclose(analytic, _numeric(array, loss), rtol=1e-5, atol=1e-6,
                                   err_msg=name)

    for name, value in network.parameters.items():
        check(name, grads.parameters[name], value)
    check("inputs", grads.inputs, inputs)
    check("initial h", grads.initial_state.short_term_memory, state.short_term_memory)
    check("initial c", grads.initial_state.long_term_memory, state.long_term_memory)


def test_gradients_are_views_of_one_flat_buffer() -> None:
    network, inputs, state, weights = _problem(SHAPES[2], "compiled")
    grads = network.backward(network.forward(inputs, state, keep_for_backward=True), weights[0])
    assert grads.flat is not None
    assert grads.flat.shape == network.flat_parameters.shape
    offset = 0
    for name, value in grads.parameters.items():
        np.testing.assert_array_equal(grads.flat[offset : offset + value.size], value.ravel(),
                                      err_msg=name)
        offset += value.size
    np.testing.assert_array_equal(grads.parameters["bias_ih_l0"], grads.parameters["bias_hh_l0"])
