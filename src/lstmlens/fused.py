"""Numba loops behind :mod:`lstmlens.kernels`: fused LSTM steps over whole sequences.

Everything here works on preallocated, C-contiguous arrays and returns nothing; the
orchestration (which path, which buffers, the big GEMMs) lives in :mod:`lstmlens.kernels`.
The math is the one in :mod:`lstmlens.cell` (gate order i, f, g, o)::

    z_t = (W_ih x_t) + (W_hh h_{t-1}) + (b_ih + b_hh)
    i_t, f_t, o_t = sigmoid(z_i, z_f, z_o)     input_gate, forget_gate, output_gate
    g_t = tanh(z_g)                            candidate_memory
    c_t = f_t * c_{t-1} + i_t * g_t            long_term_memory
    h_t = o_t * tanh(c_t)                      short_term_memory

Why the loops look the way they do:

* The recurrent product ``W_hh h_{t-1}`` is written as a sum of rows of ``W_hh.T`` (an
  "axpy" over the 4H gate axis): the inner loop then runs over contiguous memory with no
  reduction, so LLVM vectorises it without ``fastmath`` reassociation and the float64 results
  stay deterministic.
* float32 uses a rational tanh (Eigen's ``generic_fast_tanh_float``, max abs error 4e-7)
  that vectorises, where libm's ``tanhf`` would be a scalar call per element; float64 keeps
  ``np.tanh`` so it stays the exact reference.
* ``error_model="numpy"`` removes Python's zero-division checks, which would block
  vectorisation of the division inside the rational tanh.
* Batch rows are independent across time, so the parallel loops split the batch into
  ``chunks`` (one per thread) and run the whole time loop inside each chunk: one parallel
  region per call instead of one per step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"contract"}}

# Eigen's rational approximation of tanh for float32 (odd numerator / even denominator).
_F32 = np.float32
_CLAMP = _F32(7.90531110763549805)
_A1, _A3, _A5 = _F32(4.89352455891786e-03), _F32(6.37261928875436e-04), _F32(1.48572235717979e-05)
_A7, _A9 = _F32(5.12229709037114e-08), _F32(-8.60467152213735e-11)
_A11, _A13 = _F32(2.00018790482477e-13), _F32(-2.76076847742355e-16)
_B0, _B2 = _F32(4.89352518554385e-03), _F32(2.26843463243900e-03)
_B4, _B6 = _F32(1.18534705686654e-04), _F32(1.19825839466702e-06)
_HALF32 = _F32(0.5)


def squash(x: float) -> float:
    """tanh(x): exact ``np.tanh`` for float64, the fast rational form for float32."""
    return float(np.tanh(x))


def percent(x: float) -> float:
    """sigmoid(x) = 0.5 * (1 + tanh(x / 2)), through :func:`squash`."""
    return 0.5 * (1.0 + float(np.tanh(0.5 * x)))


@njit(inline="always", error_model="numpy")
def _tanh_f32(x):  # type: ignore[no-untyped-def]
    x = x if x < _CLAMP else _CLAMP
    x = x if x > -_CLAMP else -_CLAMP
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    return x * p / q


@njit(inline="always", error_model="numpy")
def _sigmoid_f32(x):  # type: ignore[no-untyped-def]
    return _HALF32 + _HALF32 * _tanh_f32(_HALF32 * x)


@overload(squash, jit_options={"error_model": "numpy"})
def _squash_overload(x):  # type: ignore[no-untyped-def]
    if x == types.float32:
        return lambda x: _tanh_f32(x)
    return lambda x: np.tanh(x)


@overload(percent, jit_options={"error_model": "numpy"})
def _percent_overload(x):  # type: ignore[no-untyped-def]
    if x == types.float32:
        return lambda x: _sigmoid_f32(x)
    # Same formula as cell.sigmoid, so float64 activations match the reference bit for bit.
    return lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))


# ---------------------------------------------------------------------------- forward
@njit(inline="always")
def _gate_update(proj, mem, bias, prev_c, gates, new_c, new_h):  # type: ignore[no-untyped-def]
    """Gates and new memories for one row and step, from the two weighted parts.

    proj, mem : (4H,) ``W_ih x_t`` and ``W_hh h_{t-1}``; bias : (4H,); prev_c : (H,) c_{t-1};
    writes gates (4H,) = i, f, g, o and new_c, new_h (H,) = c_t, h_t.
    """
    hidden = new_c.shape[0]
    for j in range(hidden):
        input_gate = percent(proj[j] + mem[j] + bias[j])
        forget_gate = percent(proj[hidden + j] + mem[hidden + j] + bias[hidden + j])
        candidate = squash(proj[2 * hidden + j] + mem[2 * hidden + j] + bias[2 * hidden + j])
        output_gate = percent(proj[3 * hidden + j] + mem[3 * hidden + j] + bias[3 * hidden + j])
        long_term = forget_gate * prev_c[j] + input_gate * candidate
        gates[j] = input_gate
        gates[hidden + j] = forget_gate
        gates[2 * hidden + j] = candidate
        gates[3 * hidden + j] = output_gate
        new_c[j] = long_term
        new_h[j] = output_gate * squash(long_term)


@njit(inline="always")
def _recurrent_product(prev_h, weight_hh_t, out):  # type: ignore[no-untyped-def]
    """out (4H,) = W_hh h_{t-1}, as rows of W_hh.T (H, 4H) scaled by h_{t-1} (H,)."""
    out[:] = 0
    for k in range(prev_h.shape[0]):
        hk = prev_h[k]
        row = weight_hh_t[k]
        for j in range(out.shape[0]):
            out[j] += hk * row[j]


@njit(inline="always")
def _forward_row(b, projected, weight_hh_t, bias, h0, c0, gates, long_term, short_term,  # type: ignore[no-untyped-def]
                 memory_part, mem):
    """The whole time loop for batch row ``b`` (mem: (4H,) scratch)."""
    record = memory_part.shape[0] > 0
    for t in range(projected.shape[1]):
        prev_h = h0[b] if t == 0 else short_term[b, t - 1]
        prev_c = c0[b] if t == 0 else long_term[b, t - 1]
        _recurrent_product(prev_h, weight_hh_t, mem)
        if record:
            memory_part[b, t] = mem
        _gate_update(projected[b, t], mem, bias, prev_c, gates[b, t],
                     long_term[b, t], short_term[b, t])


@njit(**_JIT)
def forward_sequence(  # type: ignore[no-untyped-def]
    projected, weight_hh, bias, h0, c0, gates, long_term, short_term, memory_part
):
    """Whole-sequence forward, recurrent product included, for small H x B.

    projected : (B, T, 4H) ``x_t @ W_ih.T`` for every step (no bias); weight_hh : (4H, H);
    bias : (4H,); h0, c0 : (B, H). Writes gates (B, T, 4H), long_term and short_term
    (B, T, H), and memory_part (B, T, 4H) unless it is empty (trace off).
    """
    weight_hh_t = np.ascontiguousarray(weight_hh.T)  # (H, 4H): rows are contiguous
    mem = np.empty(projected.shape[2], dtype=projected.dtype)  # W_hh h_{t-1} for one row
    for b in range(projected.shape[0]):
        _forward_row(b, projected, weight_hh_t, bias, h0, c0, gates, long_term, short_term,
                     memory_part, mem)


@njit(parallel=True, **_JIT)
def forward_sequence_parallel(  # type: ignore[no-untyped-def]
    projected, weight_hh, bias, h0, c0, gates, long_term, short_term, memory_part, chunks
):
    """:func:`forward_sequence` with the batch split into ``chunks`` run on Numba's threads."""
    batch, _, four_hidden = projected.shape
    weight_hh_t = np.ascontiguousarray(weight_hh.T)
    per_chunk = (batch + chunks - 1) // chunks
    for chunk in prange(chunks):
        mem = np.empty(four_hidden, dtype=projected.dtype)
        for b in range(chunk * per_chunk, min(batch, (chunk + 1) * per_chunk)):
            _forward_row(b, projected, weight_hh_t, bias, h0, c0, gates, long_term,
                         short_term, memory_part, mem)


@njit(**_JIT)
def forward_pointwise(  # type: ignore[no-untyped-def]
    t, projected, recurrent, bias, c0, gates, long_term, short_term
):
    """One step ``t`` for every row, given ``recurrent`` (B, 4H) = h_{t-1} @ W_hh.T from BLAS."""
    for b in range(projected.shape[0]):
        prev_c = c0[b] if t == 0 else long_term[b, t - 1]
        _gate_update(projected[b, t], recurrent[b], bias, prev_c, gates[b, t],
                     long_term[b, t], short_term[b, t])


@njit(parallel=True, **_JIT)
def forward_pointwise_parallel(  # type: ignore[no-untyped-def]
    t, projected, recurrent, bias, c0, gates, long_term, short_term, chunks
):
    """:func:`forward_pointwise` with the batch split into ``chunks`` run on Numba's threads."""
    batch = projected.shape[0]
    per_chunk = (batch + chunks - 1) // chunks
    for chunk in prange(chunks):
        for b in range(chunk * per_chunk, min(batch, (chunk + 1) * per_chunk)):
            prev_c = c0[b] if t == 0 else long_term[b, t - 1]
            _gate_update(projected[b, t], recurrent[b], bias, prev_c, gates[b, t],
                         long_term[b, t], short_term[b, t])


# ---------------------------------------------------------------------------- backward
@njit(inline="always")
def _gate_gradients(  # type: ignore[no-untyped-def]
    gates, long_term, prev_c, grad_h, grad_c, grad_gates, one
):
    """Backward through one row and step, from dL/dh_t and dL/dc_t to dL/dz_t.

    gates (4H,) i, f, g, o; long_term (H,) c_t; prev_c (H,) c_{t-1}; grad_h (H,) total
    dL/dh_t; grad_c (H,) dL/dc_t from the next step, overwritten with dL/dc_{t-1};
    writes grad_gates (4H,) = dL/dz_t.
    """
    hidden = long_term.shape[0]
    for j in range(hidden):
        input_gate = gates[j]
        forget_gate = gates[hidden + j]
        candidate = gates[2 * hidden + j]
        output_gate = gates[3 * hidden + j]
        squashed = squash(long_term[j])
        grad_output_gate = grad_h[j] * squashed
        # c_t reaches the loss through the next step and through h_t = o_t * tanh(c_t).
        grad_memory = grad_c[j] + grad_h[j] * output_gate * (one - squashed * squashed)
        grad_gates[j] = grad_memory * candidate * input_gate * (one - input_gate)
        grad_gates[hidden + j] = grad_memory * prev_c[j] * forget_gate * (one - forget_gate)
        grad_gates[2 * hidden + j] = grad_memory * input_gate * (one - candidate * candidate)
        grad_gates[3 * hidden + j] = grad_output_gate * output_gate * (one - output_gate)
        grad_c[j] = grad_memory * forget_gate


@njit(inline="always")
def _backward_row(b, gates, long_term, c0, weight_hh, grad_short_term, grad_final_c,  # type: ignore[no-untyped-def]
                  grad_gates, grad_h0, grad_c0, one, grad_h, recurrent, grad_c):
    """Backpropagation through the whole time loop of batch row ``b``.

    grad_h, recurrent, grad_c : (H,) scratch for the total dL/dh_t, dz_{t+1} @ W_hh and
    dL/dc_t.
    """
    steps, hidden = long_term.shape[1], long_term.shape[2]
    recurrent[:] = 0
    grad_c[:] = grad_final_c[b]
    for t in range(steps - 1, -1, -1):
        for j in range(hidden):
            grad_h[j] = recurrent[j] + grad_short_term[b, t, j]
        prev_c = c0[b] if t == 0 else long_term[b, t - 1]
        dz = grad_gates[b, t]
        _gate_gradients(gates[b, t], long_term[b, t], prev_c, grad_h, grad_c, dz, one)
        # dL/dh_{t-1} = dz_t @ W_hh: rows of W_hh (4H, H) scaled by dz_t.
        recurrent[:] = 0
        for r in range(dz.shape[0]):
            dzr = dz[r]
            row = weight_hh[r]
            for k in range(hidden):
                recurrent[k] += dzr * row[k]
    grad_h0[b] = recurrent
    grad_c0[b] = grad_c


@njit(**_JIT)
def backward_sequence(  # type: ignore[no-untyped-def]
    gates, long_term, c0, weight_hh, grad_short_term, grad_final_c, grad_gates, grad_h0,
    grad_c0, one
):
    """Backpropagation through time for small H x B, recurrent product included.

    gates (B, T, 4H), long_term (B, T, H), c0 (B, H), weight_hh (4H, H),
    grad_short_term (B, T, H) dL/dh_t from outside the recurrence, grad_final_c (B, H).
    Writes grad_gates (B, T, 4H) = dL/dz_t and grad_h0, grad_c0 (B, H).
    """
    hidden = long_term.shape[2]
    grad_h = np.empty(hidden, dtype=long_term.dtype)
    recurrent = np.empty(hidden, dtype=long_term.dtype)
    grad_c = np.empty(hidden, dtype=long_term.dtype)
    for b in range(long_term.shape[0]):
        _backward_row(b, gates, long_term, c0, weight_hh, grad_short_term, grad_final_c,
                      grad_gates, grad_h0, grad_c0, one, grad_h, recurrent, grad_c)


@njit(parallel=True, **_JIT)
def backward_sequence_parallel(  # type: ignore[no-untyped-def]
    gates, long_term, c0, weight_hh, grad_short_term, grad_final_c, grad_gates, grad_h0,
    grad_c0, one, chunks
):
    """:func:`backward_sequence` with the batch split into ``chunks`` run on Numba's threads."""
    batch, _, hidden = long_term.shape
    per_chunk = (batch + chunks - 1) // chunks
    for chunk in prange(chunks):
        grad_h = np.empty(hidden, dtype=long_term.dtype)
        recurrent = np.empty(hidden, dtype=long_term.dtype)
        grad_c = np.empty(hidden, dtype=long_term.dtype)
        for b in range(chunk * per_chunk, min(batch, (chunk + 1) * per_chunk)):
            _backward_row(b, gates, long_term, c0, weight_hh, grad_short_term, grad_final_c,
                          grad_gates, grad_h0, grad_c0, one, grad_h, recurrent, grad_c)


@njit(**_JIT)
def backward_pointwise(  # type: ignore[no-untyped-def]
    t, gates, long_term, c0, recurrent, grad_short_term, grad_c, grad_gates, one
):
    """One backward step ``t`` for every row; ``recurrent`` (B, H) = dz_{t+1} @ W_hh from BLAS.

    grad_c (B, H) holds dL/dc_t on entry and dL/dc_{t-1} on exit.
    """
    grad_h = np.empty(long_term.shape[2], dtype=long_term.dtype)
    for b in range(long_term.shape[0]):
        _backward_pointwise_row(b, t, gates, long_term, c0, recurrent, grad_short_term,
                                grad_c, grad_gates, one, grad_h)


@njit(parallel=True, **_JIT)
def backward_pointwise_parallel(  # type: ignore[no-untyped-def]
    t, gates, long_term, c0, recurrent, grad_short_term, grad_c, grad_gates, one, chunks
):
    """:func:`backward_pointwise` with the batch split into ``chunks`` run on Numba's threads."""
    batch, _, hidden = long_term.shape
    per_chunk = (batch + chunks - 1) // chunks
    for chunk in prange(chunks):
        grad_h = np.empty(hidden, dtype=long_term.dtype)
        for b in range(chunk * per_chunk, min(batch, (chunk + 1) * per_chunk)):
            _backward_pointwise_row(b, t, gates, long_term, c0, recurrent, grad_short_term,
                                    grad_c, grad_gates, one, grad_h)


@njit(inline="always")
def _backward_pointwise_row(b, t, gates, long_term, c0, recurrent, grad_short_term, grad_c,  # type: ignore[no-untyped-def]
                            grad_gates, one, grad_h):
    for j in range(long_term.shape[2]):
        grad_h[j] = recurrent[b, j] + grad_short_term[b, t, j]
    prev_c = c0[b] if t == 0 else long_term[b, t - 1]
    _gate_gradients(gates[b, t], long_term[b, t], prev_c, grad_h, grad_c[b], grad_gates[b, t],
                    one)


# ---------------------------------------------------------------------------- streaming
@njit(**_JIT)
def stream_step(x, packed, layout, short_term, long_term, out, scratch):  # type: ignore[no-untyped-def]
    """Advance every layer and the Dense head by one step, updating h and c in place.

    x : (B, I) one new observation per series; packed : (P,) weights in kernel layout (see
    :func:`lstmlens.streaming.pack_weights`); layout : (L + 1, 3) int64 offsets, per layer
    [W_ih.T (I_l, 4H), W_hh.T (H, 4H), b_ih + b_hh (4H,)] and for the head
    [weight (O, H), bias (O,), unused]; short_term, long_term : (L, B, H) h and c;
    out : (B, O) the head's prediction; scratch : (3, 4H).
    Returns False, changing nothing, if ``x`` holds NaN or infinity.
    """
    batch, features = x.shape
    layers, _, hidden = short_term.shape
    four_hidden = 4 * hidden
    for b in range(batch):
        for k in range(features):
            if not np.isfinite(x[b, k]):
                return False
    proj, mem, gates = scratch[0], scratch[1], scratch[2]
    for b in range(batch):
        for layer in range(layers):
            below = x[b] if layer == 0 else short_term[layer - 1, b]  # just updated
            size_in = below.shape[0]
            start_ih, start_hh, start_bias = layout[layer, 0], layout[layer, 1], layout[layer, 2]
            weight_ih_t = packed[start_ih : start_ih + size_in * four_hidden].reshape(
                (size_in, four_hidden))
            weight_hh_t = packed[start_hh : start_hh + hidden * four_hidden].reshape(
                (hidden, four_hidden))
            _recurrent_product(below, weight_ih_t, proj)  # W_ih x_t, same axpy form
            _recurrent_product(short_term[layer, b], weight_hh_t, mem)  # W_hh h_{t-1}
            # c and h are updated in place: each unit reads c_{t-1}[j] before writing c_t[j].
            _gate_update(proj, mem, packed[start_bias : start_bias + four_hidden],
                         long_term[layer, b], gates, long_term[layer, b], short_term[layer, b])
        top = short_term[layers - 1, b]
        start_w, start_b = layout[layers, 0], layout[layers, 1]
        for o in range(out.shape[1]):
            row = packed[start_w + o * hidden : start_w + (o + 1) * hidden]
            total = packed[start_b + o]
            for k in range(hidden):
                total += row[k] * top[k]
            out[b, o] = total
    return True


# ---------------------------------------------------------------------------- optimiser
@njit(**_JIT)
def adam_update(params, grads, first, second, lr, beta1, beta2, eps, step, max_norm):  # type: ignore[no-untyped-def]
    """Clip (optional) and apply one Adam step to flat buffers, as ``torch.optim.Adam``.

    params, grads, first (m), second (v) : (P,). ``max_norm`` <= 0 disables clipping;
    otherwise the gradients are scaled in place by max_norm / (norm + 1e-6) when that is
    below 1, as ``torch.nn.utils.clip_grad_norm_``. Returns the global gradient norm before
    clipping (0 when clipping is off).
    """
    norm = 0.0
    scale = 1.0
    if max_norm > 0:
        for n in range(grads.shape[0]):
            norm += float(grads[n]) * float(grads[n])  # accumulate in float64
        norm = np.sqrt(norm)
        coefficient = max_norm / (norm + 1e-6)
        if coefficient < 1.0:
            scale = coefficient
    correction1 = 1.0 - beta1**step
    correction2_sqrt = np.sqrt(1.0 - beta2**step)
    step_size = lr / correction1
    for n in range(params.shape[0]):
        grad = grads[n] * scale
        if scale != 1.0:
            grads[n] = grad
        m = first[n] + (1.0 - beta1) * (grad - first[n])  # torch's lerp_(grad, 1 - beta1)
        v = second[n] * beta2 + (1.0 - beta2) * grad * grad
        first[n] = m
        second[n] = v
        params[n] -= step_size * m / (np.sqrt(v) / correction2_sqrt + eps)
    return norm
