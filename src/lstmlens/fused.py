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
* Time is the outer loop and batch rows the inner one: the rows of one step are
  independent, so the CPU overlaps their latency-bound chains (tanh, division).
* Batch rows are independent across time, so :mod:`lstmlens.kernels` runs the
  whole-sequence kernels on blocks of rows from several threads (they release the GIL).
  Only the per-step pointwise kernels of the BLAS path have ``prange`` variants, for
  very large steps.
* Per-step bodies are written out inside the loops: moving them into a helper taking
  (b, t) made Numba's generated code about twice as slow at small H.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange, types
from numba.extending import overload


def _compiled(parallel: bool = False) -> Any:
    """The Numba options of every kernel (cached on disk, GIL released, FMA allowed)."""
    return njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"},
                parallel=parallel)


# Eigen's rational approximation of tanh for float32 (odd numerator / even denominator).
_F32 = np.float32
_CLAMP = _F32(7.90531110763549805)
_A1, _A3, _A5 = _F32(4.89352455891786e-03), _F32(6.37261928875436e-04), _F32(1.48572235717979e-05)
_A7, _A9 = _F32(5.12229709037114e-08), _F32(-8.60467152213735e-11)
_A11, _A13 = _F32(2.00018790482477e-13), _F32(-2.76076847742355e-16)
_B0, _B2 = _F32(4.89352518554385e-03), _F32(2.26843463243900e-03)
_B4, _B6 = _F32(1.18534705686654e-04), _F32(1.19825839466702e-06)
_HALF32 = _F32(0.5)
_ONE32 = _F32(1.0)


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


def one_like(x: float) -> float:
    """1 in the type of ``x`` (so float32 arithmetic is not promoted to float64)."""
    return 1.0


@overload(one_like)
def _one_like_overload(x):  # type: ignore[no-untyped-def]
    if x == types.float32:
        return lambda x: _ONE32
    return lambda x: 1.0


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
def _activate(gates, prev_c, new_c, new_h):  # type: ignore[no-untyped-def]
    """Gates and new memories for one row and step.

    gates : (4H,) holds the weighted sums z_t on entry and i, f, g, o on exit;
    prev_c : (H,) c_{t-1}; writes new_c, new_h (H,) = c_t, h_t (new_c may be prev_c).
    """
    hidden = new_c.shape[0]
    one = one_like(gates[0])
    half = one / (one + one)
    # One loop over all 4H sums so it vectorises even for tiny H: sigmoid(z) is written
    # 0.5 * (1 + tanh(0.5 z)), exactly as cell.sigmoid, and only the g block skips the halves.
    for j in range(4 * hidden):
        candidate = (j >= 2 * hidden) and (j < 3 * hidden)
        squashed = squash(gates[j] if candidate else half * gates[j])
        gates[j] = squashed if candidate else half * (one + squashed)
    for j in range(hidden):
        long_term = gates[hidden + j] * prev_c[j] + gates[j] * gates[2 * hidden + j]
        new_c[j] = long_term  # c_t = f_t * c_{t-1} + i_t * g_t
        new_h[j] = gates[3 * hidden + j] * squash(long_term)  # h_t = o_t * tanh(c_t)


@njit(inline="always")
def _accumulate(vector, weight_t, out):  # type: ignore[no-untyped-def]
    """out (4H,) += W v, as rows of W.T (n, 4H) scaled by v (n,): no reduction, vectorises."""
    for k in range(vector.shape[0]):
        vk = vector[k]
        row = weight_t[k]
        for j in range(out.shape[0]):
            out[j] += vk * row[j]


@njit(inline="always")
def _forward_rows(first, last, projected, weight_hh_t, bias, h0, c0, gates, long_term,  # type: ignore[no-untyped-def]
                  short_term, memory_part):
    """Rows ``first`` .. ``last - 1`` over all steps.

    Time is the outer loop so the rows of one step, being independent, overlap in the CPU.
    z_t is built in the gates row and then activated in place. The step body is written
    out in the loop rather than in a helper: Numba's inlining of a per-step helper taking
    (b, t) doubled the run time at small H.
    """
    if memory_part.shape[0] > 0:  # trace on: keep W_hh h_{t-1} apart in memory_part
        for t in range(projected.shape[1]):
            for b in range(first, last):
                prev_h = h0[b] if t == 0 else short_term[b, t - 1]
                proj, mem, z = projected[b, t], memory_part[b, t], gates[b, t]
                mem[:] = 0
                _accumulate(prev_h, weight_hh_t, mem)
                for j in range(z.shape[0]):
                    z[j] = proj[j] + mem[j] + bias[j]
                _activate(z, c0[b] if t == 0 else long_term[b, t - 1], long_term[b, t],
                          short_term[b, t])
    else:
        for t in range(projected.shape[1]):
            for b in range(first, last):
                prev_h = h0[b] if t == 0 else short_term[b, t - 1]
                proj, z = projected[b, t], gates[b, t]
                for j in range(z.shape[0]):
                    z[j] = proj[j] + bias[j]
                _accumulate(prev_h, weight_hh_t, z)
                _activate(z, c0[b] if t == 0 else long_term[b, t - 1], long_term[b, t],
                          short_term[b, t])


@_compiled()
def forward_sequence(  # type: ignore[no-untyped-def]
    projected, weight_hh, bias, h0, c0, gates, long_term, short_term, memory_part
):
    """Whole-sequence forward, recurrent product included, for small H x B.

    projected : (B, T, 4H) ``x_t @ W_ih.T`` for every step (no bias); weight_hh : (4H, H);
    bias : (4H,); h0, c0 : (B, H). Writes gates (B, T, 4H), long_term and short_term
    (B, T, H), and memory_part (B, T, 4H) unless it is empty (trace off).
    """
    weight_hh_t = np.ascontiguousarray(weight_hh.T)  # (H, 4H): rows are contiguous
    _forward_rows(0, projected.shape[0], projected, weight_hh_t, bias, h0, c0, gates,
                  long_term, short_term, memory_part)


@njit(inline="always")
def _pointwise_rows(first, last, t, projected, recurrent, bias, c0, gates, long_term,  # type: ignore[no-untyped-def]
                    short_term):
    """Step ``t`` of rows ``first`` .. ``last - 1`` given recurrent (B, 4H) = h_{t-1} @ W_hh.T."""
    for b in range(first, last):
        proj, rec, z = projected[b, t], recurrent[b], gates[b, t]
        for j in range(z.shape[0]):
            z[j] = proj[j] + rec[j] + bias[j]
        _activate(z, c0[b] if t == 0 else long_term[b, t - 1], long_term[b, t], short_term[b, t])


@_compiled()
def forward_pointwise(  # type: ignore[no-untyped-def]
    t, projected, recurrent, bias, c0, gates, long_term, short_term
):
    """One step ``t`` for every row, given ``recurrent`` (B, 4H) = h_{t-1} @ W_hh.T from BLAS."""
    _pointwise_rows(0, projected.shape[0], t, projected, recurrent, bias, c0, gates, long_term,
                    short_term)


@_compiled(parallel=True)
def forward_pointwise_parallel(  # type: ignore[no-untyped-def]
    t, projected, recurrent, bias, c0, gates, long_term, short_term, chunks
):
    """:func:`forward_pointwise` with the batch split into ``chunks`` run on Numba's threads."""
    batch = projected.shape[0]
    per_chunk = (batch + chunks - 1) // chunks
    for chunk in prange(chunks):
        _pointwise_rows(chunk * per_chunk, min(batch, (chunk + 1) * per_chunk), t, projected,
                        recurrent, bias, c0, gates, long_term, short_term)


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
def _backward_rows(first, last, gates, long_term, c0, weight_hh, grad_short_term,  # type: ignore[no-untyped-def]
                   grad_gates, recurrent, grad_c, one):
    """Backward through all steps of rows ``first`` .. ``last - 1`` (time outer, as forward).

    recurrent (B, H): dz_{t+1} @ W_hh, zero on entry and dz_1 @ W_hh = dL/dh_0 on exit;
    grad_c (B, H): dL/dc_T on entry, dL/dc_0 on exit.
    """
    hidden = long_term.shape[2]
    grad_h = np.empty(hidden, dtype=long_term.dtype)  # total dL/dh_t of one row
    for t in range(long_term.shape[1] - 1, -1, -1):
        for b in range(first, last):
            rec = recurrent[b]
            for j in range(hidden):
                grad_h[j] = rec[j] + grad_short_term[b, t, j]
            dz = grad_gates[b, t]
            _gate_gradients(gates[b, t], long_term[b, t], c0[b] if t == 0 else long_term[b, t - 1],
                            grad_h, grad_c[b], dz, one)
            # dL/dh_{t-1} = dz_t @ W_hh: rows of W_hh (4H, H) scaled by dz_t.
            rec[:] = 0
            _accumulate(dz, weight_hh, rec)


@_compiled()
def backward_sequence(  # type: ignore[no-untyped-def]
    gates, long_term, c0, weight_hh, grad_short_term, grad_gates, grad_h0, grad_c0, one
):
    """Backpropagation through time for small H x B, recurrent product included.

    gates (B, T, 4H), long_term (B, T, H), c0 (B, H), weight_hh (4H, H),
    grad_short_term (B, T, H) dL/dh_t from outside the recurrence. grad_c0 (B, H) holds
    dL/dc_T on entry. Writes grad_gates (B, T, 4H) = dL/dz_t and grad_h0, grad_c0 (B, H).
    """
    grad_h0[:] = 0
    _backward_rows(0, long_term.shape[0], gates, long_term, c0, weight_hh, grad_short_term,
                   grad_gates, grad_h0, grad_c0, one)


@njit(inline="always")
def _backward_pointwise_rows(first, last, t, gates, long_term, c0, recurrent,  # type: ignore[no-untyped-def]
                             grad_short_term, grad_c, grad_gates, one):
    grad_h = np.empty(long_term.shape[2], dtype=long_term.dtype)
    for b in range(first, last):
        rec = recurrent[b]
        for j in range(grad_h.shape[0]):
            grad_h[j] = rec[j] + grad_short_term[b, t, j]
        _gate_gradients(gates[b, t], long_term[b, t], c0[b] if t == 0 else long_term[b, t - 1],
                        grad_h, grad_c[b], grad_gates[b, t], one)


@_compiled()
def backward_pointwise(  # type: ignore[no-untyped-def]
    t, gates, long_term, c0, recurrent, grad_short_term, grad_c, grad_gates, one
):
    """One backward step ``t`` for every row; ``recurrent`` (B, H) = dz_{t+1} @ W_hh from BLAS.

    grad_c (B, H) holds dL/dc_t on entry and dL/dc_{t-1} on exit.
    """
    _backward_pointwise_rows(0, long_term.shape[0], t, gates, long_term, c0, recurrent,
                             grad_short_term, grad_c, grad_gates, one)


@_compiled(parallel=True)
def backward_pointwise_parallel(  # type: ignore[no-untyped-def]
    t, gates, long_term, c0, recurrent, grad_short_term, grad_c, grad_gates, one, chunks
):
    """:func:`backward_pointwise` with the batch split into ``chunks`` run on Numba's threads."""
    batch = long_term.shape[0]
    per_chunk = (batch + chunks - 1) // chunks
    for chunk in prange(chunks):
        _backward_pointwise_rows(chunk * per_chunk, min(batch, (chunk + 1) * per_chunk), t,
                                 gates, long_term, c0, recurrent, grad_short_term, grad_c,
                                 grad_gates, one)


# ---------------------------------------------------------------------------- streaming
@_compiled()
def stream_step(x, packed, layout, short_term, long_term, out, scratch):  # type: ignore[no-untyped-def]
    """Advance every layer and the Dense head by one step, updating h and c in place.

    x : (B, I) one new observation per series; packed : (P,) weights in kernel layout (see
    :func:`lstmlens.streaming.pack_weights`); layout : (L + 1, 3) int64 offsets, per layer
    [W_ih.T (I_l, 4H), W_hh.T (H, 4H), b_ih + b_hh (4H,)] and for the head
    [weight (O, H), bias (O,), unused]; short_term, long_term : (L, B, H) h and c;
    out : (B, O) the head's prediction; scratch : (4H,).
    Returns False, changing nothing, if ``x`` holds NaN or infinity.
    """
    batch, features = x.shape
    layers, _, hidden = short_term.shape
    four_hidden = 4 * hidden
    for b in range(batch):
        for k in range(features):
            if not np.isfinite(x[b, k]):
                return False
    for b in range(batch):
        for layer in range(layers):
            below = x[b] if layer == 0 else short_term[layer - 1, b]  # just updated
            size_in = below.shape[0]
            start_ih, start_hh, start_bias = layout[layer, 0], layout[layer, 1], layout[layer, 2]
            weight_ih_t = packed[start_ih : start_ih + size_in * four_hidden].reshape(
                (size_in, four_hidden))
            weight_hh_t = packed[start_hh : start_hh + hidden * four_hidden].reshape(
                (hidden, four_hidden))
            z = scratch  # (4H,) b_ih + b_hh + W_ih x_t + W_hh h_{t-1}
            z[:] = packed[start_bias : start_bias + four_hidden]
            _accumulate(below, weight_ih_t, z)
            _accumulate(short_term[layer, b], weight_hh_t, z)
            # c and h are updated in place: each unit reads c_{t-1}[j] before writing c_t[j].
            _activate(z, long_term[layer, b], long_term[layer, b], short_term[layer, b])
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
@_compiled()
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


# ---------------------------------------------------------------------------- small GEMMs
# For small shapes these serial loops beat a BLAS call: no call overhead and, above all, no
# BLAS thread team to wake (which stalls badly when other processes share the cores).
@_compiled()
def project(inputs, weight, out):  # type: ignore[no-untyped-def]
    """out (R, 4H) = inputs (R, n) @ weight.T, weight (4H, n), as scaled rows of weight.T."""
    weight_t = np.ascontiguousarray(weight.T)  # (n, 4H)
    for r in range(inputs.shape[0]):
        row = out[r]
        row[:] = 0
        _accumulate(inputs[r], weight_t, row)


@_compiled()
def weight_gradients(grad_gates, inputs, previous_h, weight_ih, grad_w_ih, grad_w_hh,  # type: ignore[no-untyped-def]
                     grad_bias, grad_inputs):
    """The after-the-loop products of backward, for small shapes.

    grad_gates (R, 4H) dL/dz of every (row, step); inputs (R, I); previous_h (R, H);
    weight_ih (4H, I). Writes grad_w_ih (4H, I) = dz.T @ x, grad_w_hh (4H, H) = dz.T @ h_prev,
    grad_bias (4H,) = sum of dz, grad_inputs (R, I) = dz @ W_ih.
    """
    four_hidden = grad_gates.shape[1]
    grad_w_ih_t = np.zeros((inputs.shape[1], four_hidden), dtype=grad_gates.dtype)
    grad_w_hh_t = np.zeros((previous_h.shape[1], four_hidden), dtype=grad_gates.dtype)
    grad_bias[:] = 0
    for r in range(grad_gates.shape[0]):
        dz = grad_gates[r]
        for j in range(four_hidden):
            grad_bias[j] += dz[j]
        # Transposed accumulators keep the inner loop over the contiguous 4H axis.
        for k in range(inputs.shape[1]):
            xk = inputs[r, k]
            for j in range(four_hidden):
                grad_w_ih_t[k, j] += xk * dz[j]
        for k in range(previous_h.shape[1]):
            hk = previous_h[r, k]
            for j in range(four_hidden):
                grad_w_hh_t[k, j] += hk * dz[j]
        grad_inputs[r] = 0
        _accumulate(dz, weight_ih, grad_inputs[r])
    grad_w_ih[:] = grad_w_ih_t.T
    grad_w_hh[:] = grad_w_hh_t.T
