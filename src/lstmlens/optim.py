"""Optimisers and gradient clipping for :class:`lstmlens.network.LSTMNetwork`.

Adam updates the network's parameter arrays in place, so the network, the optimiser and
any trace taken afterwards always agree on the current weights.
"""

from __future__ import annotations

import math

import numpy as np

from lstmlens.cell import FloatArray
from lstmlens.network import Gradients, LSTMNetwork


def gradient_norm(gradients: Gradients) -> float:
    """Return the global L2 norm of all parameter gradients."""
    return math.sqrt(sum(float(np.vdot(g, g)) for g in gradients.parameters.values()))


def clip_gradients(gradients: Gradients, max_norm: float) -> float:
    """Scale all parameter gradients in place so their global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    gradients : Gradients
        As returned by :meth:`LSTMNetwork.backward`.
    max_norm : float
        The largest allowed global norm (> 0).

    Returns
    -------
    float
        The norm before clipping (useful to log exploding gradients).
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}.")
    norm = gradient_norm(gradients)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for grad in gradients.parameters.values():
            grad *= scale
    return norm


class Adam:
    """Adam (Kingma & Ba, 2015) with optional decoupled weight decay, as ``torch.optim.Adam``.

    Parameters
    ----------
    network : LSTMNetwork
        Its parameter arrays are updated in place by :meth:`step`.
    lr : float
        Learning rate (> 0). Can be changed between steps (schedules).
    betas : (float, float)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float
        Added to the denominator for numerical stability.
    """

    def __init__(
        self,
        network: LSTMNetwork,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}.")
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError(f"betas must each be in [0, 1), got {betas!r}.")
        self.network = network
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.steps_taken = 0
        self._first_moment = {k: np.zeros_like(v) for k, v in network.parameters.items()}
        self._second_moment = {k: np.zeros_like(v) for k, v in network.parameters.items()}

    def step(self, gradients: Gradients) -> None:
        """Apply one Adam update from ``gradients`` to the network's parameters."""
        self.steps_taken += 1
        beta1, beta2 = self.betas
        correction1 = 1.0 - beta1**self.steps_taken
        correction2 = 1.0 - beta2**self.steps_taken
        step_size = self.lr / correction1
        for name, param in self.network.parameters.items():
            grad: FloatArray = gradients.parameters[name]
            m, v = self._first_moment[name], self._second_moment[name]
            m *= beta1
            m += (1.0 - beta1) * grad
            v *= beta2
            v += (1.0 - beta2) * grad * grad
            param -= step_size * m / (np.sqrt(v / correction2) + self.eps)
