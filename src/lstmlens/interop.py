"""Move LSTM weights between lstmlens, PyTorch and Keras.

lstmlens already stores parameters in PyTorch's layout and gate order (i, f, g, o), so the
PyTorch bridge is a copy. Keras stores the transposes, one bias, and the same gate order
(i, f, c, o), so its bridge is a transpose. PyTorch is imported only inside the functions
that need it (``pip install "lstmlens[torch]"``); Keras is not needed at all: the Keras
functions work on the arrays ``layer.get_weights()`` returns.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmlens.cell import FloatArray
from lstmlens.network import LSTMNetwork


def _require_torch() -> Any:
    try:
        import torch
    except ImportError as error:  # pragma: no cover - exercised only without torch
        raise ImportError(
            "PyTorch is needed for this conversion: pip install 'lstmlens[torch]'."
        ) from error
    return torch


def to_torch(network: LSTMNetwork) -> tuple[Any, Any]:
    """Return ``(torch.nn.LSTM(batch_first=True), torch.nn.Linear)`` with the same weights.

    Parameters
    ----------
    network : LSTMNetwork
        The network to copy.

    Returns
    -------
    (torch.nn.LSTM, torch.nn.Linear)
        Modules in the network's precision that compute the same outputs.
    """
    torch = _require_torch()
    dtype = torch.float64 if network.dtype == np.float64 else torch.float32
    lstm = torch.nn.LSTM(
        network.input_size, network.hidden_size, num_layers=network.num_layers,
        batch_first=True, dtype=dtype,
    )
    head = torch.nn.Linear(network.hidden_size, network.output_size, dtype=dtype)
    with torch.no_grad():
        for name, value in network.parameters.items():
            module, key = (head, name.removeprefix("head.")) if name.startswith("head.") else (
                lstm, name)
            getattr(module, key).copy_(torch.from_numpy(np.array(value)))
    return lstm, head


def from_torch(lstm: Any, head: Any) -> LSTMNetwork:
    """Build an :class:`LSTMNetwork` from ``torch.nn.LSTM`` and ``torch.nn.Linear`` modules.

    Raises
    ------
    ValueError
        If the LSTM is bidirectional, uses projections, has no biases, or the Linear layer's
        input size differs from the LSTM's hidden size.
    """
    if lstm.bidirectional or getattr(lstm, "proj_size", 0) or not lstm.bias:
        raise ValueError(
            "Only unidirectional torch.nn.LSTM modules with biases and no projection "
            "(proj_size=0) can be imported."
        )
    if head.in_features != lstm.hidden_size:
        raise ValueError(
            f"head.in_features={head.in_features} must equal lstm.hidden_size="
            f"{lstm.hidden_size}."
        )
    parameters = {name: value.detach().cpu().numpy().copy()
                  for name, value in lstm.named_parameters()}
    parameters["head.weight"] = head.weight.detach().cpu().numpy().copy()
    parameters["head.bias"] = head.bias.detach().cpu().numpy().copy()
    return LSTMNetwork(parameters)


def from_keras_weights(
    layers: Sequence[Sequence[FloatArray]], dense: Sequence[FloatArray]
) -> LSTMNetwork:
    """Build an :class:`LSTMNetwork` from Keras ``get_weights()`` arrays.

    Parameters
    ----------
    layers : sequence of [kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H,)]
        One entry per ``keras.layers.LSTM`` (bottom first), as ``layer.get_weights()``
        returns them. Keras' gate order i, f, c, o is PyTorch's i, f, g, o.
    dense : [kernel (H, O), bias (O,)]
        The ``keras.layers.Dense`` weights.
    """
    parameters: dict[str, FloatArray] = {}
    for index, weights in enumerate(layers):
        if len(weights) != 3:
            raise ValueError(
                f"layers[{index}] must be [kernel, recurrent_kernel, bias] (use_bias=True), "
                f"got {len(weights)} arrays."
            )
        kernel, recurrent_kernel, bias = (np.asarray(w) for w in weights)
        parameters[f"weight_ih_l{index}"] = np.ascontiguousarray(kernel.T)
        parameters[f"weight_hh_l{index}"] = np.ascontiguousarray(recurrent_kernel.T)
        parameters[f"bias_ih_l{index}"] = bias.copy()
        parameters[f"bias_hh_l{index}"] = np.zeros_like(bias)
    kernel, bias = (np.asarray(w) for w in dense)
    parameters["head.weight"] = np.ascontiguousarray(kernel.T)
    parameters["head.bias"] = bias.copy()
    return LSTMNetwork(parameters)


def to_keras_weights(network: LSTMNetwork) -> tuple[list[list[FloatArray]], list[FloatArray]]:
    """Return the network as Keras ``set_weights()`` arrays: ``(layers, dense)``.

    The two PyTorch biases are summed into Keras' single bias.
    """
    layers = []
    for index in range(network.num_layers):
        p = network.parameters
        layers.append([
            np.ascontiguousarray(p[f"weight_ih_l{index}"].T),
            np.ascontiguousarray(p[f"weight_hh_l{index}"].T),
            p[f"bias_ih_l{index}"] + p[f"bias_hh_l{index}"],
        ])
    dense = [np.ascontiguousarray(network.parameters["head.weight"].T),
             network.parameters["head.bias"].copy()]
    return layers, dense


def export_onnx(network: LSTMNetwork, path: str, *, sequence_length: int = 8) -> None:
    """Export the network to an ONNX file through PyTorch's exporter.

    The exported graph takes ``inputs`` (batch, time, features) with dynamic batch and time
    and returns ``output`` (batch, outputs) from the last step, as :meth:`LSTMNetwork.forward`.
    Needs ``pip install "lstmlens[torch,onnx]"``.
    """
    torch = _require_torch()
    lstm, head = to_torch(network)

    class _Forecaster(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.lstm, self.head = lstm, head

        def forward(self, inputs: Any) -> Any:
            sequence, _ = self.lstm(inputs)
            return self.head(sequence[:, -1, :])

    example = torch.zeros(1, sequence_length, network.input_size, dtype=lstm.weight_ih_l0.dtype)
    with warnings.catch_warnings():
        # The TorchScript exporter is chosen on purpose: it maps nn.LSTM to ONNX's own LSTM
        # operator without needing onnxscript; torch warns that it is no longer the default.
        warnings.simplefilter("ignore", DeprecationWarning)
        # Tracing a Python `if` on a tensor and the batch-size note are expected for nn.LSTM;
        # the exported graph is checked against onnxruntime in the tests.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size")
        torch.onnx.export(
            _Forecaster().eval(), (example,), path, input_names=["inputs"],
            output_names=["output"],
            dynamic_axes={"inputs": {0: "batch", 1: "time"}, "output": {0: "batch"}},
            dynamo=False,
        )
