"""Small fused kernels: the streaming step, the Dense head and the Adam update.

The whole-sequence LSTM loops live in :mod:`lstmlens.sequences`; these are the pieces
around them that run once per call, each a single compiled loop so that no BLAS call (and
no BLAS thread team, which would fight the kernels' own threads for the cores) is needed
anywhere on the hot path.
"""

from __future__ import annotations

import numpy as np

from lstmlens.activations import compiled
from lstmlens.addresses import array_at, table_at
from lstmlens.cpu import wide_vectors
from lstmlens.layouts import UNITS
from lstmlens.tiles import ROWS, alternate, forward_tile


# ---------------------------------------------------------------------------- Dense head
@compiled()
def dense_forward(short_term, weight, bias, out):  # type: ignore[no-untyped-def]
    """out (B, O) = short_term (B, H) @ weight.T (O, H) + bias (O,): the Dense layer."""
    wide_vectors()
    for b in range(short_term.shape[0]):
        for o in range(weight.shape[0]):
            total = bias[o]
            for k in range(weight.shape[1]):
                total += weight[o, k] * short_term[b, k]
            out[b, o] = total


@compiled()
def dense_backward(grad_output, short_term, weight, grad_weight, grad_bias, grad_short_term):  # type: ignore[no-untyped-def]
    """Gradients of the Dense layer from dL/d output (B, O).

    Writes grad_weight (O, H) = grad_output.T @ short_term, grad_bias (O,) = column sums of
    grad_output, and grad_short_term (B, H) = grad_output @ weight (dL/dh_T).
    """
    wide_vectors()
    grad_weight[:] = 0
    grad_bias[:] = 0
    grad_short_term[:] = 0
    for b in range(grad_output.shape[0]):
        for o in range(weight.shape[0]):
            g = grad_output[b, o]
            grad_bias[o] += g
            for k in range(weight.shape[1]):
                grad_weight[o, k] += g * short_term[b, k]
                grad_short_term[b, k] += g * weight[o, k]


# ---------------------------------------------------------------------------- streaming
@compiled()
def stream_step(x, weights, bias, head, state, scratch, out, step):  # type: ignore[no-untyped-def]
    """Advance every layer and the Dense head by one step, keeping h and c between calls.

    x (B * I,) x_t, one new observation per series; weights (L, tiles, K, 4U) and bias
    (L, tiles, 4U) every layer in tile layout (K >= I_l + H rows, the rest zero); head
    (O, H + 1) the Dense layer's weight with its bias as the last column; state (2, L, 2, B, H)
    h and c of every layer, h_{t-1} and c_{t-1} in slot 0 on entry and h_t, c_t on return;
    scratch (B, 1, max(I, H)) holds each layer's input; writes out (B, O).
    ``step`` counts the steps taken: odd ones go through each layer's tiles last to first
    (:func:`lstmlens.tiles.alternate`; the results are the same either way). A step then
    starts on the weights the previous one read last, still in the L1 cache: at 64
    units the 74 KB of weights do not fit in its 48 KB, and this took a step from 0.71-0.87
    to 0.64-0.70 us (two runs, compiled loop of 200,000 steps).
    Returns False, changing nothing, if ``x`` holds NaN or infinity.
    """
    wide_vectors()
    for k in range(x.shape[0]):
        if not np.isfinite(x[k]):
            return False
    layers, batch, hidden = state.shape[1], state.shape[3], state.shape[4]
    features = x.shape[0] // batch
    for b in range(batch):
        for k in range(features):
            scratch[b, 0, k] = x[b * features + k]
    nothing = scratch[:, 0:0]  # no per-step outputs are kept
    full = batch // ROWS * ROWS
    for layer in range(layers):
        if layer > 0:  # the layer below's new short-term memory is this layer's input
            features = hidden
            for b in range(batch):
                for k in range(hidden):
                    scratch[b, 0, k] = state[0, layer - 1, 0, b, k]
        source = scratch[:, :, :features]
        h, c = state[0, layer], state[1, layer]
        tiles = weights.shape[1]
        for index in range(tiles):
            tile = alternate(step, index, 0, tiles)
            for row in range(0, full, ROWS):
                forward_tile(ROWS, UNITS, 0, 0, 0, row, tile, 0, hidden, nothing, source,
                             weights[layer], bias[layer], h, c, nothing, nothing, nothing,
                             nothing, nothing)
            for row in range(full, batch):
                forward_tile(1, UNITS, 0, 0, 0, row, tile, 0, hidden, nothing, source,
                             weights[layer], bias[layer], h, c, nothing, nothing, nothing,
                             nothing, nothing)
        for b in range(batch):  # step 0 of forward_tile wrote the new memories to slot 1
            for k in range(hidden):
                h[0, b, k] = h[1, b, k]
                c[0, b, k] = c[1, b, k]
    top = state[0, layers - 1, 0]
    for b in range(batch):
        for o in range(head.shape[0]):
            total = head[o, hidden]
            for k in range(hidden):
                total += head[o, k] * top[b, k]
            out[b, o] = total
    return True


@compiled()
def stream_step_at(x, address):  # type: ignore[no-untyped-def]
    """:func:`stream_step` on the buffers an :class:`lstmlens.addresses.AddressTable` at
    ``address`` lists: weights, bias, head, state, scratch and out, then one slot counting
    the steps taken. Two arguments instead of eight: 0.08 us to call instead of 0.32 us, for
    a step of 0.2-0.7 us at 8-64 units.
    """
    table = table_at(address)
    weights, at = array_at(table, 1, 4, x)
    bias, at = array_at(table, at, 3, x)
    head, at = array_at(table, at, 2, x)
    state, at = array_at(table, at, 5, x)
    scratch, at = array_at(table, at, 3, x)
    out, at = array_at(table, at, 2, x)
    steps = table[at]
    if not stream_step(x, weights, bias, head, state, scratch, out, steps):
        return False
    table[at] = steps + 1
    return True


# ---------------------------------------------------------------------------- optimiser
@compiled()
def adam_update(params, grads, first, second, lr, beta1, beta2, eps, step, max_norm):  # type: ignore[no-untyped-def]
    """Clip (optional) and apply one Adam step to flat buffers, as ``torch.optim.Adam``.

    params, grads, first (m), second (v) : (P,). ``max_norm`` <= 0 disables clipping;
    otherwise the gradients are scaled in place by max_norm / (norm + 1e-6) when that is
    below 1, as ``torch.nn.utils.clip_grad_norm_``. Returns the global gradient norm before
    clipping (0 when clipping is off).

    The update runs in the parameters' precision, as torch's tensor operations (and NumPy's,
    with Python floats) do: float64 arithmetic on float32 parameters, for its square roots
    and divisions, made the step 4x slower (24 us of a 200 us training step at 64 units).
    """
    wide_vectors()
    norm = 0.0
    if max_norm > 0:
        for n in range(grads.shape[0]):
            norm += float(grads[n]) * float(grads[n])  # accumulate in float64
        norm = np.sqrt(norm)
        coefficient = max_norm / (norm + 1e-6)
        if coefficient < 1.0:
            scale = grads.dtype.type(coefficient)
            for n in range(grads.shape[0]):
                grads[n] *= scale
    real = params.dtype.type
    keep_first = real(1.0 - beta1)  # torch's lerp_(grad, 1 - beta1)
    keep_second, decay_second = real(1.0 - beta2), real(beta2)
    step_size = real(lr / (1.0 - beta1**step))
    correction2_sqrt = real(np.sqrt(1.0 - beta2**step))
    epsilon = real(eps)
    for n in range(params.shape[0]):
        grad = grads[n]
        m = first[n] + keep_first * (grad - first[n])
        v = second[n] * decay_second + keep_second * grad * grad
        first[n] = m
        second[n] = v
        params[n] -= step_size * m / (np.sqrt(v) / correction2_sqrt + epsilon)
    return norm
