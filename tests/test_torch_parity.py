"""lstmlens against ``torch.nn.LSTM(batch_first=True)`` + ``nn.Linear`` + ``optim.Adam``.

Biases are random, non-zero and different between ``bias_ih`` and ``bias_hh`` (a copied
single bias would hide a wrong bias sum). Tolerances: float64 1e-10; float32 2e-5 absolute
(rational tanh/sigmoid and a different summation order than oneDNN).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lstmlens.network import LSTMNetwork, LSTMState
from lstmlens.optim import Adam, clip_gradients

torch = pytest.importorskip("torch", reason="parity tests need the optional torch extra")

TOLERANCE = {np.float64: 1e-10, np.float32: 2e-5}
LAYERS, FEATURES, HIDDEN, OUTPUTS, BATCH, STEPS = 2, 3, 5, 2, 4, 6


def _torch_dtype(dtype: type[np.floating]) -> Any:
    return torch.float64 if dtype == np.float64 else torch.float32


def _pair(dtype: type[np.floating], backend: str = "compiled") -> tuple[LSTMNetwork, Any, Any]:
    network = LSTMNetwork.initialize(FEATURES, HIDDEN, LAYERS, OUTPUTS, dtype=dtype,
                                     random_state=3, backend=backend)  # type: ignore[arg-type]
    rng = np.random.default_rng(4)
    for name, value in network.parameters.items():
        if name.startswith("bias"):
            network.parameters[name] = rng.uniform(-0.8, 0.8, value.shape)
    assert not np.allclose(network.parameters["bias_ih_l0"], network.parameters["bias_hh_l0"])
    lstm = torch.nn.LSTM(FEATURES, HIDDEN, LAYERS, batch_first=True, dtype=_torch_dtype(dtype))
    head = torch.nn.Linear(HIDDEN, OUTPUTS, dtype=_torch_dtype(dtype))
    with torch.no_grad():
        for name, value in network.parameters.items():
            module, key = (head, name[5:]) if name.startswith("head.") else (lstm, name)
            getattr(module, key).copy_(torch.from_numpy(value.copy()))
    return network, lstm, head


def _data(dtype: type[np.floating]) -> tuple[np.ndarray, LSTMState, np.ndarray]:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(dtype)
    state = LSTMState(rng.standard_normal((LAYERS, BATCH, HIDDEN)).astype(dtype) * 0.5,
                      rng.standard_normal((LAYERS, BATCH, HIDDEN)).astype(dtype))
    target = rng.standard_normal((BATCH, OUTPUTS)).astype(dtype)
    return x, state, target


def _torch_grads(lstm: Any, head: Any, x: np.ndarray, state: LSTMState,
                 target: np.ndarray) -> dict[str, Any]:
    xt = torch.from_numpy(x).requires_grad_(True)
    h0 = torch.from_numpy(state.short_term_memory.copy()).requires_grad_(True)
    c0 = torch.from_numpy(state.long_term_memory.copy()).requires_grad_(True)
    sequence, (h_n, c_n) = lstm(xt, (h0, c0))
    output = head(sequence[:, -1])
    loss = ((output - torch.from_numpy(target)) ** 2).mean() + h_n.sum() * 0.3 - c_n.mean()
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in lstm.named_parameters()}
    grads.update({f"head.{name}": p.grad.numpy() for name, p in head.named_parameters()})
    return {"params": grads, "x": xt.grad.numpy(), "h0": h0.grad.numpy(), "c0": c0.grad.numpy(),
            "output": output.detach().numpy(), "h_n": h_n.detach().numpy(),
            "c_n": c_n.detach().numpy()}


@pytest.mark.parametrize("backend", ["compiled", "reference"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_forward_and_every_gradient_match_torch(dtype: type[np.floating], backend: str) -> None:
    network, lstm, head = _pair(dtype, backend)
    x, state, target = _data(dtype)
    expected = _torch_grads(lstm, head, x, state, target)
    tol = TOLERANCE[dtype]

    result = network.forward(x, state, keep_for_backward=True)
    np.testing.assert_allclose(result.output, expected["output"], atol=tol, rtol=tol)
    np.testing.assert_allclose(result.final_state.short_term_memory, expected["h_n"], atol=tol)
    np.testing.assert_allclose(result.final_state.long_term_memory, expected["c_n"], atol=tol)

    grad_output = 2.0 * (result.output - target) / target.size
    grad_final = LSTMState(np.full_like(state.short_term_memory, 0.3),
                           np.full_like(state.long_term_memory, -1.0 / state.long_term_memory.size))
    grads = network.backward(result, grad_output.astype(dtype), grad_final)
    for name, value in grads.parameters.items():
        np.testing.assert_allclose(value, expected["params"][name], atol=tol, rtol=tol,
                                   err_msg=name)
    np.testing.assert_allclose(grads.inputs, expected["x"], atol=tol, rtol=tol)
    np.testing.assert_allclose(grads.initial_state.short_term_memory, expected["h0"], atol=tol)
    np.testing.assert_allclose(grads.initial_state.long_term_memory, expected["c0"], atol=tol)


@pytest.mark.parametrize("clip", [None, 0.05], ids=["no-clip", "clip"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_adam_training_matches_torch_adam(dtype: type[np.floating], clip: float | None) -> None:
    network, lstm, head = _pair(dtype)
    x, _, target = _data(dtype)
    optimizer = Adam(network, lr=0.01)
    torch_params = list(lstm.parameters()) + list(head.parameters())
    torch_optimizer = torch.optim.Adam(torch_params, lr=0.01)
    for _ in range(5):
        result = network.forward(x, keep_for_backward=True)
        grads = network.backward(result, (2.0 * (result.output - target) / target.size))
        norm = optimizer.step(grads, max_norm=clip)

        torch_optimizer.zero_grad()
        sequence, _ = lstm(torch.from_numpy(x))
        loss = ((head(sequence[:, -1]) - torch.from_numpy(target)) ** 2).mean()
        loss.backward()
        if clip is not None:
            torch_norm = torch.nn.utils.clip_grad_norm_(torch_params, clip)
            assert norm == pytest.approx(float(torch_norm), rel=1e-4)
        torch_optimizer.step()
    tol = 1e-9 if dtype == np.float64 else 5e-5
    for name, value in network.parameters.items():
        module, key = (head, name[5:]) if name.startswith("head.") else (lstm, name)
        np.testing.assert_allclose(value, getattr(module, key).detach().numpy(), atol=tol,
                                   err_msg=name)


def test_array_fallback_of_adam_and_clipping_matches_the_flat_path() -> None:
    """Gradients built by hand (no flat buffer) take the NumPy path to the same result."""
    network, _, _ = _pair(np.float64)
    twin = network.copy()
    x, _, target = _data(np.float64)
    fast, slow = Adam(network, lr=0.01), Adam(twin, lr=0.01)
    for _ in range(3):
        grads = network.backward(result := network.forward(x, keep_for_backward=True),
                                 2.0 * (result.output - target) / target.size)
        twin_grads = twin.backward(twin_result := twin.forward(x, keep_for_backward=True),
                                   2.0 * (twin_result.output - target) / target.size)
        by_hand = type(twin_grads)({k: v.copy() for k, v in twin_grads.parameters.items()},
                                   twin_grads.inputs, twin_grads.initial_state)
        fast.step(grads, max_norm=0.05)
        clip_gradients(by_hand, 0.05)
        slow.step(by_hand)
    for name, value in network.parameters.items():
        np.testing.assert_allclose(value, twin.parameters[name], atol=1e-12, err_msg=name)
