"""A layer's weights in the layouts the compiled kernels read, each made on first use.

The forward kernels read PyTorch's parameters regrouped: the tiles
(:mod:`lstmlens.tiles`) in the tile layout of :mod:`lstmlens.layouts`, the lanes
(:mod:`lstmlens.lanes`) in groups of gate rows. A network keeps one :class:`PackedLayer` per
layer until its parameters change, so that forecasting passes pack once.
"""

from __future__ import annotations

import numpy as np

from lstmlens import lanes, layouts
from lstmlens.cell import FloatArray


class PackedLayer:
    """One layer's weights as the kernels read them, each layout made the first time a pass
    needs it: a training step on the lanes (:mod:`lstmlens.lanes`) never makes the tile
    layout, which would be repacked after every optimiser step.

    It reads the parameter arrays it was given when a layout is first asked for: the
    network makes a new one whenever its parameters change (``LSTMNetwork._packed_layers``).

    Parameters
    ----------
    weight_ih, weight_hh, bias_ih, bias_hh
        The layer's parameters in PyTorch's layout.
    dtype
        The precision of the layouts (the parameters are converted if they differ).
    """

    def __init__(self, weight_ih: FloatArray, weight_hh: FloatArray, bias_ih: FloatArray,
                 bias_hh: FloatArray, dtype: np.dtype[np.floating]):
        self._source = tuple(np.ascontiguousarray(array, dtype=dtype)
                             for array in (weight_ih, weight_hh, bias_ih, bias_hh))
        #: H, the layer's real units (tiles x U may be more: the rest is padding).
        self.hidden = int(weight_hh.shape[1])
        # Made on first use (plain attributes: a functools.cached_property takes a lock).
        self._tile_layout: tuple[FloatArray, FloatArray] | None = None
        self._lane_layout: tuple[FloatArray, FloatArray] | None = None

    @property
    def tile_layout(self) -> tuple[FloatArray, FloatArray]:
        """weights (tiles, I + H, 4U), W_ih then W_hh transposed with the four gates of U
        units side by side (:mod:`lstmlens.layouts`), and bias (tiles, 4U), b_ih + b_hh in
        the same column order."""
        if self._tile_layout is None:
            weight_ih, weight_hh, bias_ih, bias_hh = self._source
            self._tile_layout = layouts.packed_forward(weight_ih, weight_hh, bias_ih, bias_hh,
                                                       weight_ih.dtype)
        return self._tile_layout

    @property
    def weights(self) -> FloatArray:
        """The weights of :attr:`tile_layout`."""
        return self.tile_layout[0]

    @property
    def bias(self) -> FloatArray:
        """The bias of :attr:`tile_layout`."""
        return self.tile_layout[1]

    @property
    def lane_layout(self) -> tuple[FloatArray, FloatArray]:
        """The weights and bias as :func:`lstmlens.lanes.lane_weights` lays them out."""
        if self._lane_layout is None:
            self._lane_layout = lanes.lane_weights(*self._source)
        return self._lane_layout
