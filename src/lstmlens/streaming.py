"""Serve a network one observation at a time, with its memories kept between calls.

A :class:`Streamer` holds h (short-term memory) and c (long-term memory) of every layer
and advances all layers and the Dense head with one compiled call per :meth:`Streamer.push`,
so a single series can be updated at a rate of about a million steps per second: the cost
per call is the Numba dispatch plus the arithmetic, with no Python loop over layers.

The weights are copied once into the layout the kernel reads fastest (``W.T``, biases
summed). The copy is refreshed automatically whenever ``network.version`` changes (an
optimiser step or an assignment to ``network.parameters[...]``); after editing parameter
arrays in place by hand, call :meth:`Streamer.refresh`.
"""

from __future__ import annotations

import numpy as np

from lstmlens import fused
from lstmlens.cell import FloatArray
from lstmlens.network import LSTMNetwork, LSTMState


def pack_weights(network: LSTMNetwork) -> tuple[FloatArray, np.ndarray]:
    """Copy the weights into the streaming kernel's layout.

    Returns
    -------
    packed : (P,)
        Per layer ``W_ih.T`` (I_l, 4H), ``W_hh.T`` (H, 4H) and ``b_ih + b_hh`` (4H,), then
        the head's weight (O, H) and bias (O,).
    layout : (L + 1, 3) int64
        Start offsets of those pieces in ``packed``.
    """
    p = network.parameters
    pieces: list[FloatArray] = []
    layout = np.zeros((network.num_layers + 1, 3), dtype=np.int64)
    offset = 0

    def add(array: FloatArray) -> int:
        nonlocal offset
        start = offset
        pieces.append(np.ascontiguousarray(array).ravel())
        offset += array.size
        return start

    for layer in range(network.num_layers):
        layout[layer, 0] = add(p[f"weight_ih_l{layer}"].T)
        layout[layer, 1] = add(p[f"weight_hh_l{layer}"].T)
        layout[layer, 2] = add(p[f"bias_ih_l{layer}"] + p[f"bias_hh_l{layer}"])
    layout[-1, 0] = add(p["head.weight"])
    layout[-1, 1] = add(p["head.bias"])
    return np.concatenate(pieces).astype(network.dtype, copy=False), layout


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
        shape = (network.num_layers, self.batch, network.hidden_size)
        self._h = np.zeros(shape, network.dtype)  # short-term memory, (L, B, H)
        self._c = np.zeros(shape, network.dtype)  # long-term memory, (L, B, H)
        self._out = np.empty((self.batch, network.output_size), network.dtype)
        self._scratch = np.empty(4 * network.hidden_size, network.dtype)
        self._input_shape = (self.batch, network.input_size)
        self._dtype = network.dtype
        self._version = -1
        self.refresh()
        if state is not None:
            self.reset(state)

    def refresh(self) -> None:
        """Re-read the network's weights (needed only after editing them in place by hand)."""
        self._packed, self._layout = pack_weights(self.network)
        self._version = self.network.version

    @property
    def state(self) -> LSTMState:
        """A copy of the current memories h and c, (L, B, H) each."""
        return LSTMState(self._h.copy(), self._c.copy())

    def reset(self, state: LSTMState | None = None) -> None:
        """Start again from ``state`` (zeros when None)."""
        if state is None:
            self._h[...] = 0
            self._c[...] = 0
            return
        for name, target in (("short_term_memory", self._h), ("long_term_memory", self._c)):
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
        x = np.asarray(inputs, dtype=self._dtype)
        if x.shape != self._input_shape or not x.flags.c_contiguous:
            x = self._reshaped(x)
        if self._version != self.network.version:
            self.refresh()
        if not fused.stream_step(x, self._packed, self._layout, self._h, self._c, self._out,
                                 self._scratch):
            raise ValueError(
                "inputs contain NaN or infinite values; the state was left unchanged. "
                "Fill or drop missing observations before pushing them."
            )
        return self._out.copy()

    def _reshaped(self, x: FloatArray) -> FloatArray:
        batch, features = self._input_shape
        if x.shape == self._input_shape or (
            x.size == batch * features and x.ndim <= 1 and x.size in (batch, features)
        ):
            return np.ascontiguousarray(x.reshape(self._input_shape))
        raise ValueError(
            f"inputs must have shape (batch, features) = {self._input_shape} (or (features,) "
            f"when batch is 1), got shape {x.shape}."
        )
