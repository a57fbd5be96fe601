"""Parameter layout and validation for :class:`lstmlens.network.LSTMNetwork`.

Parameters use PyTorch's names and layout (``weight_ih_l{k}`` (4H, I), ``weight_hh_l{k}``
(4H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}``, gate order i, f, g, o) plus ``head.weight``
(O, H) and ``head.bias`` (O,) for the Dense layer. All of a network's parameters live in one
contiguous flat buffer; :class:`ParameterDict` holds views of it.

This module does not import :mod:`lstmlens.network`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol

import numpy as np

from lstmlens.cell import FloatArray

Backend = Literal["compiled", "reference"]
SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _Versioned(Protocol):
    """Anything with a ``version`` counter to bump when its parameters change."""

    version: int


class ParameterDict(dict[str, FloatArray]):
    """A dict of parameter arrays that are views of one flat buffer.

    Setting an item copies the new values into the existing view (same shape required)
    instead of replacing it, so the flat buffer, the optimiser and the streaming caches keep
    seeing the network's real weights. Keys are fixed.
    """

    def __init__(self, items: Iterable[tuple[str, FloatArray]], owner: _Versioned):
        super().__init__(items)
        self._owner = owner

    def __setitem__(self, name: str, value: FloatArray) -> None:
        if name not in self:
            raise KeyError(f"{name!r} is not a parameter of this network; "
                           f"parameters are {list(self)}.")
        target = self[name]
        array = np.asarray(value)
        if array.shape != target.shape:
            raise ValueError(f"parameter {name} must have shape {target.shape}, "
                             f"got {array.shape}.")
        target[...] = array
        self._owner.version += 1

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Copy values in for every given name (see :meth:`__setitem__`)."""
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def __reduce__(self) -> Any:
        # Pickle/deepcopy as a plain dict of arrays (the owner rebuilds its flat buffer).
        return (dict, (dict(self.items()),))


def _views(
    flat: FloatArray, shaped: Iterable[tuple[str, FloatArray | tuple[int, ...]]]
) -> list[tuple[str, FloatArray]]:
    """Cut ``flat`` into consecutive views shaped like the given arrays (or shapes)."""
    views: list[tuple[str, FloatArray]] = []
    offset = 0
    for name, like in shaped:
        shape = like if isinstance(like, tuple) else like.shape
        size = math.prod(shape)
        views.append((name, flat[offset : offset + size].reshape(shape)))
        offset += size
    return views


def parameter_shapes(
    input_size: int, hidden_size: int, num_layers: int, output_size: int
) -> dict[str, tuple[int, ...]]:
    """Return the name and shape of every parameter, in PyTorch's layout and order."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden_size
        shapes[f"weight_ih_l{layer}"] = (4 * hidden_size, layer_input)
        shapes[f"weight_hh_l{layer}"] = (4 * hidden_size, hidden_size)
        shapes[f"bias_ih_l{layer}"] = (4 * hidden_size,)
        shapes[f"bias_hh_l{layer}"] = (4 * hidden_size,)
    shapes["head.weight"] = (output_size, hidden_size)
    shapes["head.bias"] = (output_size,)
    return shapes


def _validated_dtype(dtype: type[np.floating] | str) -> np.dtype[np.floating]:
    """Return ``dtype`` as a NumPy dtype, raising TypeError unless float32 or float64."""
    resolved = np.dtype(dtype)
    if resolved not in SUPPORTED_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {resolved}.")
    return resolved


def _validated_backend(backend: str) -> Backend:
    """Return ``backend`` unchanged, raising ValueError unless it is a known backend."""
    if backend not in ("compiled", "reference"):
        raise ValueError(f"backend must be 'compiled' or 'reference', got {backend!r}.")
    return backend  # type: ignore[return-value]


def _validated_parameters(parameters: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    """Return copies of ``parameters`` in layout order, checking names, shapes and dtype.

    Raises
    ------
    ValueError
        If names are missing or unexpected, or a shape is wrong.
    TypeError
        If the parameters are not all float32 or all float64.
    """
    if "weight_ih_l0" not in parameters or "head.weight" not in parameters:
        raise ValueError(
            "parameters must contain at least 'weight_ih_l0' and 'head.weight'; got "
            f"{sorted(parameters)}."
        )
    first = np.asarray(parameters["weight_ih_l0"])
    dtype = _validated_dtype(first.dtype.type)
    num_layers = sum(1 for name in parameters if name.startswith("weight_ih_l"))
    expected = parameter_shapes(
        input_size=first.shape[1],
        hidden_size=np.asarray(parameters["weight_hh_l0"]).shape[1],
        num_layers=num_layers,
        output_size=np.asarray(parameters["head.weight"]).shape[0],
    )
    unexpected = sorted(set(parameters) - set(expected))
    missing = sorted(set(expected) - set(parameters))
    if unexpected or missing:
        raise ValueError(f"parameters do not form a network: missing {missing}, "
                         f"unexpected {unexpected}.")
    validated: dict[str, FloatArray] = {}
    for name, shape in expected.items():
        value = np.array(parameters[name], copy=True)
        if value.shape != shape:
            raise ValueError(f"parameter {name} must have shape {shape}, got {value.shape}.")
        if value.dtype != dtype:
            raise TypeError(f"parameter {name} is {value.dtype}; all parameters must be {dtype}.")
        validated[name] = value
    return validated


def _initial_parameters(
    input_size: int,
    hidden_size: int,
    num_layers: int,
    output_size: int,
    dtype: type[np.floating] | str,
    random_state: int | np.random.Generator | None,
    forget_bias: float | None,
) -> dict[str, FloatArray]:
    """Draw parameters with PyTorch's default initialisation, uniform(-1/sqrt(H), 1/sqrt(H)).

    Parameters
    ----------
    input_size, hidden_size, num_layers, output_size : int
        I, H, L and O; all at least 1.
    dtype : float32 or float64
        Precision of the parameters.
    random_state : int, Generator or None
        Seed: the same seed gives bit-identical parameters.
    forget_bias : float or None
        If given, ``bias_ih`` of the forget gate is set to it and ``bias_hh`` to 0.

    Returns
    -------
    dict of str to ndarray
        The parameters, named and ordered as :func:`parameter_shapes` says.
    """
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers), ("output_size", output_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    float_dtype = _validated_dtype(dtype)
    rng = np.random.default_rng(random_state)
    bound = 1.0 / np.sqrt(hidden_size)
    shapes = parameter_shapes(input_size, hidden_size, num_layers, output_size)
    parameters = {
        name: rng.uniform(-bound, bound, size=shape).astype(float_dtype)
        for name, shape in shapes.items()
    }
    if forget_bias is not None:
        forget = slice(hidden_size, 2 * hidden_size)
        for layer in range(num_layers):
            parameters[f"bias_ih_l{layer}"][forget] = forget_bias
            parameters[f"bias_hh_l{layer}"][forget] = 0.0
    return parameters


def _network_sizes(parameters: Mapping[str, FloatArray]) -> tuple[int, int, int, int]:
    """Return (L, I, H, O): layers, input, hidden and output sizes of valid ``parameters``."""
    num_layers = sum(1 for name in parameters if name.startswith("weight_ih_l"))
    input_size = int(parameters["weight_ih_l0"].shape[1])
    hidden_size = int(parameters["weight_hh_l0"].shape[1])
    output_size = int(parameters["head.weight"].shape[0])
    return num_layers, input_size, hidden_size, output_size
