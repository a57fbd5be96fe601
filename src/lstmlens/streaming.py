"""Serve a network one observation at a time, with its memories kept between calls.

A :class:`Streamer` holds h (short-term memory) and c (long-term memory) of every layer
and advances all layers and the Dense head with one compiled call per :meth:`Streamer.push`,
so a single series can be updated at a rate of about a million steps per second: the cost
per call is one call of compiled code plus the arithmetic, with no Python loop over layers.
The compiled step is called directly (not through Numba's dispatcher) and is handed its
buffers as one address (:mod:`lstmlens.addresses`), not as eight arrays.

The weights are copied once into the tile layout of :mod:`lstmlens.layouts` (the same
register tiles as the whole-sequence kernels compute each step, so a streamed value equals
the one a full forward pass gives). The copy is refreshed automatically whenever
``network.version`` changes (an optimiser step or an assignment to
``network.parameters[...]``); after editing parameter arrays in place by hand, call
:meth:`Streamer.refresh`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from lstmlens import fused, layouts
from lstmlens.addresses import AddressTable
from lstmlens.cell import FloatArray
from lstmlens.network import LSTMNetwork, LSTMState
from lstmlens.packed import PackedLayer


def pack_weights(network: LSTMNetwork) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Copy the weights into the streaming kernel's layout.

    Returns
    -------
    weights : (L, tiles, K, 4U)
        Every layer in the tile layout of :mod:`lstmlens.layouts` (K = max(I, H) + H rows;
        the first layer's rows past I + H are zero).
    bias : (L, tiles, 4U)
        b_ih + b_hh of every layer, in the same layout.
    head : (O, H + 1)
        The Dense layer's weight, its bias as the last column.
    """
    dtype = network.dtype
    hidden = network.hidden_size
    layers = [PackedLayer(*network._layer_parameters(layer), dtype)
              for layer in range(network.num_layers)]
    tiles = layouts.tile_count(hidden)
    depth = max(network.input_size, hidden) + hidden
    weights = np.zeros((network.num_layers, tiles, depth, 4 * layouts.UNITS), dtype)
    bias = np.empty((network.num_layers, tiles, 4 * layouts.UNITS), dtype)
    for index, packed in enumerate(layers):
        weights[index, :, : packed.weights.shape[1]] = packed.weights
        bias[index] = packed.bias
    p = network.parameters
    head = np.concatenate([p["head.weight"], p["head.bias"][:, None]], axis=1).astype(dtype)
    return weights, bias, head


def _compiled_entry(dispatcher: Any, *args: Any) -> Callable[..., Any]:
    """The compiled function behind ``dispatcher`` for these argument types, called
    without the dispatcher's per-call type matching (~0.4 us: a third of a small step).

    Only for arguments whose types never change between calls (the streamer's own
    buffers); falls back to the dispatcher if Numba's internals look different.
    """
    dispatcher(*args)  # compile (or load from the cache) for exactly these types
    try:
        types = tuple(numba.typeof(argument) for argument in args)
        entry: Callable[..., Any] = dispatcher.overloads[types].entry_point
    except (AttributeError, KeyError, TypeError, ValueError):
        return dispatcher  # type: ignore[no-any-return]
    return entry


class _Buffers:
    """Everything :func:`lstmlens.fused.stream_step` reads and writes, allocated once and
    listed in an :class:`~lstmlens.addresses.AddressTable` for
    :func:`lstmlens.fused.stream_step_at` (so the buffers are only ever filled in place)."""

    def __init__(self, network: LSTMNetwork, batch: int):
        dtype = network.dtype
        layers, hidden = network.num_layers, network.hidden_size
        tiles = layouts.tile_count(hidden)
        depth = max(network.input_size, hidden) + hidden
        columns = 4 * layouts.UNITS
        self.weights = np.zeros((layers, tiles, depth, columns), dtype)
        self.bias = np.zeros((layers, tiles, columns), dtype)
        self.head = np.zeros((network.output_size, hidden + 1), dtype)
        self.state = np.zeros((2, layers, 2, batch, hidden), dtype)  # h, c; slot 0 current
        self.scratch = np.zeros((batch, 1, max(network.input_size, hidden)), dtype)
        self.out = np.zeros((batch, network.output_size), dtype)
        self.addresses = AddressTable([self.weights, self.bias, self.head, self.state,
                                       self.scratch, self.out], slots=1)  # steps taken

    @property
    def h(self) -> FloatArray:
        """h (short-term memory) of every layer, (L, 2, B, H); slot 0 is current."""
        view: FloatArray = self.state[0]
        return view

    @property
    def c(self) -> FloatArray:
        """c (long-term memory) of every layer, (L, 2, B, H); slot 0 is current."""
        view: FloatArray = self.state[1]
        return view


class Streamer:
    """Advance a network by one time step per call, keeping its memories.

    Parameters
    ----------
    network : LSTMNetwork
        The network to serve; the streamer follows its parameter updates.
    batch : int
        Number of series advanced together (B).
    state : LSTMState or None
        Starting h and c, (L, B, H) each; zeros when None.

    Examples
    --------
    >>> streamer = network.stream()          # doctest: +SKIP
    >>> for value in series:                 # doctest: +SKIP
    ...     forecast = streamer.push(value)  # (1, O)
    """

    def __init__(self, network: LSTMNetwork, batch: int = 1, state: LSTMState | None = None):
        if not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or batch < 1:
            raise ValueError(f"batch must be an integer >= 1, got {batch!r}.")
        self.network = network
        self.batch = int(batch)
        self._buffers = _Buffers(network, self.batch)
        self._size = self.batch * network.input_size
        self._flat_shape = (self._size,)
        self._dtype = network.dtype
        self._version = -1
        self.refresh()
        if state is not None:
            self.reset(state)
        self._out = self._buffers.out
        self._address = self._buffers.addresses.address
        self._step = _compiled_entry(fused.stream_step_at, np.zeros(self._size, self._dtype),
                                     self._address)
        self.reset(state)  # the compile call above advanced the state by one step

    def __copy__(self) -> Streamer:
        """A streamer of the same network with its own buffers, from the current memories
        (a field-by-field copy would share the buffers the compiled step is given by address)."""
        return Streamer(self.network, self.batch, self.state)

    def __deepcopy__(self, memo: dict[int, Any]) -> Streamer:
        """As :meth:`__copy__`, for a deep copy of the network."""
        return Streamer(copy.deepcopy(self.network, memo), self.batch, self.state)

    def refresh(self) -> None:
        """Re-read the network's weights (needed only after editing them in place by hand)."""
        weights, bias, head = pack_weights(self.network)
        buffers = self._buffers
        buffers.weights[...], buffers.bias[...], buffers.head[...] = weights, bias, head
        self._version = self.network.version

    @property
    def state(self) -> LSTMState:
        """A copy of the current memories h and c, (L, B, H) each."""
        return LSTMState(self._buffers.h[:, 0].copy(), self._buffers.c[:, 0].copy())

    def reset(self, state: LSTMState | None = None) -> None:
        """Start again from ``state`` (zeros when None)."""
        h, c = self._buffers.h, self._buffers.c
        if state is None:
            h[...] = 0
            c[...] = 0
            return
        for name, target in (("short_term_memory", h[:, 0]), ("long_term_memory", c[:, 0])):
            value = np.asarray(getattr(state, name))
            if value.shape != target.shape:
                raise ValueError(
                    f"state.{name} must have shape (layers, batch, hidden) = {target.shape}, "
                    f"got {value.shape}."
                )
            if not np.isfinite(value).all():
                raise ValueError(f"state.{name} contains NaN or infinite values.")
            target[...] = value

    def push(self, inputs: FloatArray | float) -> FloatArray:
        """Feed one new observation per series and return the head's prediction.

        Parameters
        ----------
        inputs : float, (I,) or (B, I)
            x_t. A scalar is accepted when B = I = 1 and a 1-D array when B = 1.

        Returns
        -------
        (B, O) ndarray
            The Dense head's output after this step (a new array).
        """
        # Always a C-contiguous 1-D array of the network's dtype: the compiled step is called
        # without Numba's type checks (see _compiled_entry), so nothing else may reach it.
        x = np.ascontiguousarray(inputs, dtype=self._dtype)
        if x.shape != self._flat_shape:
            x = self._flattened(x)
        if self._version != self.network.version:
            self.refresh()
        if not self._step(x, self._address):
            raise ValueError(
                "inputs contain NaN or infinite values; the state was left unchanged. "
                "Fill or drop missing observations before pushing them."
            )
        return self._out.copy()

    def _flattened(self, x: FloatArray) -> FloatArray:
        """x as (B * I,) when its shape is one push accepts, else a ValueError."""
        if x.size == self._size and (x.ndim < 2 or (x.ndim == 2 and x.shape[0] == self.batch)):
            return x.reshape(-1)
        features = self.network.input_size
        raise ValueError(
            f"inputs must have shape (batch, features) = {(self.batch, features)} (or "
            f"(features,) when batch is 1), got shape {x.shape}."
        )
