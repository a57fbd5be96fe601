"""Optimisers and gradient clipping for :class:`lstmlens.network.LSTMNetwork`.

Adam updates the network's parameter arrays in place, so the network, the optimiser and
any trace taken afterwards always agree on the current weights. When the gradients come from
:meth:`LSTMNetwork.backward` (one flat buffer laid out like the network's flat parameters),
clipping and the whole Adam update run as one compiled loop over the flat buffers; otherwise
the same update runs per array in NumPy. Both follow ``torch.optim.Adam`` and
``torch.nn.utils.clip_grad_norm_`` formula for formula.
"""

from __future__ import annotations

import math

import numpy as np

from lstmlens import fused
from lstmlens.cell import FloatArray
from lstmlens.network import Gradients, LSTMNetwork

#: Added to the norm before dividing, as ``torch.nn.utils.clip_grad_norm_`` does.
CLIP_EPSILON = 1e-6


def gradient_norm(gradients: Gradients) -> float:
    """Return the global L2 norm of all parameter gradients."""
    if gradients.flat is not None:
        flat = gradients.flat
        return math.sqrt(float(np.dot(flat, flat)))
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
    _check_max_norm(max_norm)
    norm = gradient_norm(gradients)
    scale = max_norm / (norm + CLIP_EPSILON)
    if scale < 1.0:
        flat = gradients.flat
        if flat is not None:
            flat *= scale
        else:
            for grad in gradients.parameters.values():
                grad *= scale
    return norm


def _check_max_norm(max_norm: float) -> None:
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}.")


class Adam:
    """Adam (Kingma & Ba, 2015), as ``torch.optim.Adam`` with its default settings.

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
        # m and v live in flat buffers laid out like network.flat_parameters.
        self._first_flat = np.zeros_like(network.flat_parameters)
        self._second_flat = np.zeros_like(network.flat_parameters)
        self._first_moment = _like(self._first_flat, network.parameters)
        self._second_moment = _like(self._second_flat, network.parameters)

    def step(self, gradients: Gradients, *, max_norm: float | None = None) -> float | None:
        """Apply one Adam update from ``gradients`` to the network's parameters.

        Parameters
        ----------
        gradients : Gradients
            From :meth:`LSTMNetwork.backward`.
        max_norm : float or None
            If given, first clip the gradients in place to this global L2 norm (as
            :func:`clip_gradients`), fused into the same pass.

        Returns
        -------
        float or None
            The gradient norm before clipping when ``max_norm`` is given, else None.
        """
        if max_norm is not None:
            _check_max_norm(max_norm)
        self.steps_taken += 1
        beta1, beta2 = self.betas
        flat_params = self.network.flat_parameters
        flat_grads = gradients.flat
        if flat_grads is not None and flat_grads.shape == flat_params.shape:
            norm = fused.adam_update(
                flat_params, flat_grads, self._first_flat, self._second_flat, float(self.lr),
                float(beta1), float(beta2), float(self.eps), float(self.steps_taken),
                float(max_norm) if max_norm is not None else 0.0,
            )
        else:
            norm = clip_gradients(gradients, max_norm) if max_norm is not None else 0.0
            self._step_arrays(gradients)
        self.network.version += 1
        return float(norm) if max_norm is not None else None

    def _step_arrays(self, gradients: Gradients) -> None:
        """The same update per array in NumPy, for gradients not in one flat buffer."""
        beta1, beta2 = self.betas
        step_size = self.lr / (1.0 - beta1**self.steps_taken)
        correction2_sqrt = math.sqrt(1.0 - beta2**self.steps_taken)
        for name, param in self.network.parameters.items():
            grad: FloatArray = np.asarray(gradients.parameters[name], dtype=param.dtype)
            m, v = self._first_moment[name], self._second_moment[name]
            m += (1.0 - beta1) * (grad - m)
            v *= beta2
            v += (1.0 - beta2) * grad * grad
            param -= step_size * m / (np.sqrt(v) / correction2_sqrt + self.eps)


def _like(flat: FloatArray, parameters: dict[str, FloatArray]) -> dict[str, FloatArray]:
    """Views of ``flat`` shaped and named like ``parameters`` (same order)."""
    views: dict[str, FloatArray] = {}
    offset = 0
    for name, value in parameters.items():
        views[name] = flat[offset : offset + value.size].reshape(value.shape)
        offset += value.size
    return views
