"""Training losses, each returning the loss and its gradient with respect to the predictions.

Every loss takes ``predictions`` and ``targets`` of one shape (typically ``(B, O)``: a batch
of windows, each with ``O`` horizon steps) and averages over **all** elements, so the
gradient of element ``j`` is ``d(loss)/d(prediction_j)`` with the ``1/N`` already applied::

    mse      L = mean (ŷ - y)^2                   dL/dŷ = 2 (ŷ - y) / N
    mae      L = mean |ŷ - y|                     dL/dŷ = sign(ŷ - y) / N
    pinball  L = mean max(q (y - ŷ), (q - 1)(y - ŷ))
                                                  dL/dŷ = (1{ŷ > y} - q) / N
    huber    L = mean δ² (sqrt(1 + (r/δ)²) - 1)   (pseudo-Huber; smooth MAE, r = ŷ - y)
    smape    L = mean 2 |ŷ - y| / (|ŷ| + |y|)     (0/0 counts as 0)

Which loss fits which metric: M4 scores sMAPE and MASE, both built on absolute errors. When
the forecaster trains on log values normalised by each window's level (its default), MAE
there is ``mean |log(ŷ/y)|``, which is sMAPE to first order (``|ŷ-y| / mean(ŷ, y)``) and,
up to each series' scale, MASE; so ``mae`` is the aligned loss, and ``smape`` is available
to optimise the metric itself on positive, level-relative values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]
LossFunction = Callable[[FloatArray, FloatArray], tuple[float, FloatArray]]

__all__ = ["LOSSES", "LossFunction", "huber", "mae", "mse", "pinball", "smape"]


def _checked(predictions: FloatArray, targets: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return both arrays as floats of one shape, or raise naming the mismatch."""
    prediction = np.asarray(predictions)
    target = np.asarray(targets, dtype=prediction.dtype)
    if not np.issubdtype(prediction.dtype, np.floating):
        raise TypeError(f"predictions must be a float array, got dtype {prediction.dtype}.")
    if prediction.shape != target.shape:
        raise ValueError(
            f"predictions and targets must have the same shape, got {prediction.shape} and "
            f"{target.shape}; the network's output_size must equal the number of targets."
        )
    if prediction.size == 0:
        raise ValueError("predictions are empty; a loss needs at least one value.")
    return prediction, target


def mse(predictions: FloatArray, targets: FloatArray) -> tuple[float, FloatArray]:
    """Mean squared error and its gradient ``2 (ŷ - y) / N``."""
    prediction, target = _checked(predictions, targets)
    residual = prediction - target
    loss = float(np.mean(residual * residual))
    return loss, (2.0 / residual.size) * residual


def mae(predictions: FloatArray, targets: FloatArray) -> tuple[float, FloatArray]:
    """Mean absolute error and its (sub)gradient ``sign(ŷ - y) / N`` (0 where ŷ = y)."""
    prediction, target = _checked(predictions, targets)
    residual = prediction - target
    loss = float(np.mean(np.abs(residual)))
    return loss, np.sign(residual) / residual.size


def pinball(
    predictions: FloatArray, targets: FloatArray, quantile: float = 0.5
) -> tuple[float, FloatArray]:
    """Pinball (quantile) loss for the ``quantile`` in (0, 1); ``quantile=0.5`` is MAE / 2.

    Under-forecasts (ŷ < y) cost ``q`` per unit, over-forecasts ``1 - q``, so the minimiser
    is the ``q``-quantile of the targets.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(
            f"quantile must be strictly between 0 and 1, got {quantile!r}; "
            "use 0.5 for the median, 0.1 / 0.9 for an 80% band."
        )
    prediction, target = _checked(predictions, targets)
    error = target - prediction  # positive when the forecast is too low
    loss = float(np.mean(np.maximum(quantile * error, (quantile - 1.0) * error)))
    # d/dŷ of q * (y - ŷ) is -q below the target; of (q - 1)(y - ŷ) is 1 - q above it.
    grad = np.where(prediction > target, 1.0 - quantile, -quantile) / prediction.size
    return loss, grad.astype(prediction.dtype)


def huber(
    predictions: FloatArray, targets: FloatArray, delta: float = 0.05
) -> tuple[float, FloatArray]:
    """Pseudo-Huber loss: quadratic within ``delta`` of the target, linear (MAE) beyond.

    ``L = mean δ² (sqrt(1 + (r/δ)²) - 1)`` with ``r = ŷ - y``; its gradient
    ``r / sqrt(1 + (r/δ)²) / N`` is smooth, unlike MAE's sign, which helps Adam settle.
    """
    if not delta > 0.0:
        raise ValueError(f"delta must be > 0, got {delta!r}.")
    prediction, target = _checked(predictions, targets)
    residual = prediction - target
    root = np.sqrt(1.0 + (residual / delta) ** 2)
    loss = float(np.mean(delta * delta * (root - 1.0)))
    return loss, residual / root / residual.size


def smape(predictions: FloatArray, targets: FloatArray) -> tuple[float, FloatArray]:
    """Symmetric absolute percentage error as a fraction (M4's sMAPE / 100) and its gradient.

    ``L = mean 2 |ŷ - y| / (|ŷ| + |y|)``; terms with ``ŷ = y = 0`` count as 0. With
    ``s = sign(ŷ - y)`` and ``D = |ŷ| + |y|`` the gradient of one term is
    ``2 (s D - |ŷ - y| sign(ŷ)) / D²``.
    """
    prediction, target = _checked(predictions, targets)
    difference = prediction - target
    denominator = np.abs(prediction) + np.abs(target)
    safe = np.where(denominator > 0.0, denominator, 1.0)
    terms = np.where(denominator > 0.0, 2.0 * np.abs(difference) / safe, 0.0)
    grad_terms = 2.0 * (np.sign(difference) * safe - np.abs(difference) * np.sign(prediction))
    grad = np.where(denominator > 0.0, grad_terms / (safe * safe), 0.0)
    return float(np.mean(terms)), (grad / difference.size).astype(prediction.dtype)


#: The losses :class:`lstmlens.forecaster.LSTMForecaster` accepts by name.
LOSSES: dict[str, LossFunction] = {
    "mae": mae,
    "mse": mse,
    "huber": huber,
    "pinball": pinball,
    "smape": smape,
}
