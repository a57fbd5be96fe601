"""Weights survive the trip to PyTorch, Keras layouts and ONNX, and compute the same outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lstmlens.interop import export_onnx, from_keras_weights, from_torch, to_keras_weights, to_torch
from lstmlens.network import LSTMNetwork


def _network(dtype: type[np.floating] = np.float64) -> LSTMNetwork:
    return LSTMNetwork.initialize(3, 5, num_layers=2, output_size=2, dtype=dtype, random_state=7)


def _inputs(dtype: type[np.floating] = np.float64) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(4, 6, 3)).astype(dtype)


def test_torch_round_trip_computes_the_same_outputs() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is an optional dependency")
    network = _network()
    lstm, head = to_torch(network)
    with torch.no_grad():
        sequence, _ = lstm(torch.from_numpy(_inputs()))
        torch_output = head(sequence[:, -1]).numpy()
    np.testing.assert_allclose(torch_output, network.forward(_inputs()).output, rtol=1e-10)
    back = from_torch(lstm, head)
    for name, value in network.parameters.items():
        np.testing.assert_array_equal(back.parameters[name], value)


def test_from_torch_refuses_bidirectional_modules() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is an optional dependency")
    lstm = torch.nn.LSTM(2, 3, bidirectional=True, batch_first=True)
    with pytest.raises(ValueError, match="unidirectional"):
        from_torch(lstm, torch.nn.Linear(3, 1))


def _keras_style_forward(layers: list[list[np.ndarray]], dense: list[np.ndarray],
                         inputs: np.ndarray) -> np.ndarray:
    """An independent LSTM written the way Keras lays out its weights (x @ kernel)."""
    sequence = inputs
    for kernel, recurrent_kernel, bias in layers:
        hidden = recurrent_kernel.shape[0]
        h = np.zeros((inputs.shape[0], hidden))
        c = np.zeros_like(h)
        outputs = []
        for t in range(sequence.shape[1]):
            z = sequence[:, t] @ kernel + h @ recurrent_kernel + bias
            i, f, g, o = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
            c = c / (1 + np.exp(-f)) + np.tanh(g) / (1 + np.exp(-i))
            h = np.tanh(c) / (1 + np.exp(-o))
            outputs.append(h)
        sequence = np.stack(outputs, axis=1)
    return sequence[:, -1] @ dense[0] + dense[1]


def test_keras_layout_matches_an_independent_keras_style_forward() -> None:
    network = _network()
    layers, dense = to_keras_weights(network)
    expected = _keras_style_forward(layers, dense, _inputs())
    np.testing.assert_allclose(network.forward(_inputs()).output, expected, rtol=1e-9)
    rebuilt = from_keras_weights(layers, dense)
    np.testing.assert_allclose(rebuilt.forward(_inputs()).output, expected, rtol=1e-9)


def test_keras_weights_without_bias_are_refused() -> None:
    layers, dense = to_keras_weights(_network())
    with pytest.raises(ValueError, match="use_bias=True"):
        from_keras_weights([layers[0][:2]], dense)


def test_onnx_export_runs_in_onnxruntime(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="PyTorch is an optional dependency")
    pytest.importorskip("onnx", reason="onnx is an optional dependency (extra 'onnx')")
    onnxruntime = pytest.importorskip("onnxruntime", reason="needs the 'onnx' extra")
    network = _network(np.float32)
    path = tmp_path / "model.onnx"
    export_onnx(network, str(path))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = _inputs(np.float32)
    (output,) = session.run(["output"], {"inputs": inputs})
    np.testing.assert_allclose(output, network.forward(inputs).output, rtol=1e-4, atol=1e-5)
