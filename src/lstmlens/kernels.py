"""Compiled whole-layer LSTM forward and backward, with :mod:`lstmlens.reference`'s signatures.

The work is split where each part runs fastest:

* the input projection ``x_t @ W_ih.T`` of *all* steps is one GEMM (BLAS) before the time
  loop, and is what the trace records as ``input_part``;
* the recurrent product ``h_{t-1} @ W_hh.T`` must be done step by step. For small
  batch x hidden it runs inside one fused Numba loop over time (:mod:`lstmlens.fused`),
  which avoids any per-step Python or BLAS call overhead. For large batch x hidden a BLAS
  call per step into a preallocated buffer is faster, followed by a fused Numba loop for the
  gate nonlinearities and the memory update;
* backward stores dL/dz_t of every step (``grad_gates``, (B, T, 4H)), so only
  dL/dh_{t-1} = dz_t @ W_hh is computed per step; dL/dW_ih, dL/dW_hh and dL/dx are then one
  GEMM each after the time loop.

Batch rows are independent, so when the batch is big enough to pay for it the fused loops
run blocks of rows on :func:`numba.get_num_threads` threads (set it with
:func:`numba.set_num_threads`) through :func:`run_row_blocks`.

float64 follows :mod:`lstmlens.reference` to rounding (1e-12 in practice). float32 uses a
rational tanh/sigmoid (abs. error < 4e-7) and agrees with float64 to about 1e-5 on
typical data.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from lstmlens import fused
from lstmlens.cell import FloatArray
from lstmlens.reference import LayerGradients
from lstmlens.trace import LayerTrace

#: batch x hidden at or above which the recurrent product is one BLAS call per step.
#: Measured on 2 cores: at B=32, H=64 a training step runs 1.8x faster with BLAS than with the
#: fused loop (which is not register-blocked), while B=1 shapes gain nothing from it.
BLAS_MIN_BATCH_HIDDEN = 1024
#: Multiply-adds from which the all-steps input projection and the after-the-loop gradient
#: products go to BLAS; below it they run in serial Numba loops (no BLAS threads to wake).
BLAS_MIN_GEMM_WORK = 1 << 21
#: Multiply-adds per call (B x T x 4H x H) from which the whole-sequence loops use threads.
#: Below it, starting the thread team costs more than it saves (and on a busy machine a
#: parallel region can stall on a descheduled thread, so it must pay for itself clearly).
PARALLEL_MIN_SEQUENCE_WORK = 1 << 21
#: Hidden units per step (B x H) from which the per-step pointwise loops use threads. A
#: parallel region per step only pays for very large steps, and it is where a busy machine
#: hurts most (a descheduled worker stalls every step): at H = B = 256 one region per step
#: made inference 3.6x slower than the serial loop, so only far larger steps use it.
PARALLEL_MIN_STEP_UNITS = 1 << 22

_EMPTY_PARTS: dict[np.dtype[np.floating], FloatArray] = {
    np.dtype(np.float32): np.empty((0, 0, 0), np.float32),
    np.dtype(np.float64): np.empty((0, 0, 0), np.float64),
}


def uses_blas(batch: int, hidden: int) -> bool:
    """Whether the recurrent product runs as one BLAS call per step for this shape."""
    return batch * hidden >= BLAS_MIN_BATCH_HIDDEN


def thread_chunks(batch: int, steps: int, hidden: int) -> int:
    """How many pieces the fused loops split the batch into (1 = single-threaded)."""
    if uses_blas(batch, hidden):
        if batch * hidden < PARALLEL_MIN_STEP_UNITS:
            return 1
    elif batch * steps * 4 * hidden * hidden < PARALLEL_MIN_SEQUENCE_WORK:
        return 1
    return max(1, min(batch, int(numba.get_num_threads())))


_HELPERS: ThreadPoolExecutor | None = None
_HELPERS_SIZE = 0
_HELPERS_LOCK = threading.Lock()
#: Row blocks per thread: small enough that the last block does not keep anyone waiting long.
BLOCKS_PER_THREAD = 4


def _helpers(count: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``count`` helper threads, made on first use."""
    global _HELPERS, _HELPERS_SIZE
    with _HELPERS_LOCK:
        if _HELPERS is None or _HELPERS_SIZE != count:
            if _HELPERS is not None:
                _HELPERS.shutdown(wait=False)
            _HELPERS = ThreadPoolExecutor(count, thread_name_prefix="lstmlens-kernel")
            _HELPERS_SIZE = count
        return _HELPERS


def run_row_blocks(run: Callable[[int, int], None], batch: int, threads: int) -> None:
    """Call ``run(first, last)`` over blocks of batch rows, on this thread and helpers.

    The kernels release the GIL, so the blocks run in parallel. Blocks are claimed one at a
    time by whoever is free, and the caller never waits for a helper that has not started
    a block: when other processes share the cores and a helper is not scheduled, the caller
    simply does all the work itself instead of stalling at a barrier (which is what made
    Numba's OpenMP ``prange`` regions take 10-100x longer on a busy machine).
    """
    size = max(1, -(-batch // (threads * BLOCKS_PER_THREAD)))
    blocks = [(first, min(batch, first + size)) for first in range(0, batch, size)]
    claims = itertools.count()  # next() is atomic under the GIL
    busy = threading.Lock()  # held by a helper while it runs a block
    errors: list[BaseException] = []  # recorded before the lock is released, so never lost

    def work(helper: bool) -> None:
        while not errors:
            if helper:
                busy.acquire()
            try:
                index = next(claims)
                if index >= len(blocks):
                    return
                run(*blocks[index])
            except BaseException as error:  # re-raised on the calling thread below
                errors.append(error)
            finally:
                if helper:
                    busy.release()

    pool = _helpers(threads - 1)
    for _ in range(threads - 1):
        pool.submit(work, True)
    work(False)
    with busy:  # wait only for a block a helper is running right now
        pass
    if errors:
        raise errors[0]


def _as(array: FloatArray, dtype: np.dtype[np.floating]) -> FloatArray:
    return np.ascontiguousarray(array, dtype=dtype)


def layer_forward(
    inputs: FloatArray,
    initial_short_term_memory: FloatArray,
    initial_long_term_memory: FloatArray,
    weight_ih: FloatArray,
    weight_hh: FloatArray,
    bias_ih: FloatArray,
    bias_hh: FloatArray,
    record_parts: bool,
) -> LayerTrace:
    """Run one LSTM layer over whole sequences with the fused compiled kernels.

    Same contract as :func:`lstmlens.reference.layer_forward`.

    Parameters
    ----------
    inputs : (B, T, I)
        The sequences x_1 .. x_T, float32 or float64 (every other array is cast to it).
    initial_short_term_memory, initial_long_term_memory : (B, H)
        h_0 (short-term memory) and c_0 (long-term memory / cell state).
    weight_ih, weight_hh : (4H, I), (4H, H)
        Weights in PyTorch's layout, gates stacked input_gate (i_t), forget_gate (f_t),
        candidate_memory (g_t), output_gate (o_t).
    bias_ih, bias_hh : (4H,)
        The two biases, summed.
    record_parts : bool
        Also keep ``input_part`` (``x_t @ W_ih.T``, no bias) and ``memory_part``
        (``h_{t-1} @ W_hh.T``) for explanations; nothing extra is computed when False.

    Returns
    -------
    LayerTrace
    """
    x = np.ascontiguousarray(inputs)
    dtype = x.dtype
    batch, steps, features = x.shape
    hidden = weight_hh.shape[1]
    h0 = _as(initial_short_term_memory, dtype)
    c0 = _as(initial_long_term_memory, dtype)
    w_hh = _as(weight_hh, dtype)
    bias = _as(bias_ih + bias_hh, dtype)  # (4H,), summed once as the reference does
    # One GEMM for every step's input projection: (B*T, I) @ (I, 4H) -> (B, T, 4H).
    rows = x.reshape(batch * steps, features)
    if batch * steps * features * 4 * hidden >= BLAS_MIN_GEMM_WORK:
        projected = np.matmul(rows, _as(weight_ih, dtype).T)
    else:
        projected = np.empty((batch * steps, 4 * hidden), dtype)
        fused.project(rows, _as(weight_ih, dtype), projected)
    projected = projected.reshape(batch, steps, 4 * hidden)
    gates = np.empty((batch, steps, 4 * hidden), dtype)
    long_term = np.empty((batch, steps, hidden), dtype)
    short_term = np.empty((batch, steps, hidden), dtype)
    memory_part = np.empty_like(gates) if record_parts else _EMPTY_PARTS[dtype]
    chunks = thread_chunks(batch, steps, hidden)
    if uses_blas(batch, hidden):
        _forward_blas(projected, w_hh, bias, h0, c0, gates, long_term, short_term,
                      memory_part, chunks)
    elif chunks > 1:
        def forward_rows(a: int, b: int) -> None:
            fused.forward_sequence(projected[a:b], w_hh, bias, h0[a:b], c0[a:b], gates[a:b],
                                   long_term[a:b], short_term[a:b], memory_part[a:b])

        run_row_blocks(forward_rows, batch, chunks)
    else:
        fused.forward_sequence(projected, w_hh, bias, h0, c0, gates, long_term, short_term,
                               memory_part)
    return LayerTrace(
        inputs=x,
        initial_short_term_memory=h0,
        initial_long_term_memory=c0,
        gates=gates,
        long_term_memory=long_term,
        short_term_memory=short_term,
        bias=bias,
        input_part=projected if record_parts else None,
        memory_part=memory_part if record_parts else None,
    )


def _forward_blas(
    projected: FloatArray,
    weight_hh: FloatArray,
    bias: FloatArray,
    h0: FloatArray,
    c0: FloatArray,
    gates: FloatArray,
    long_term: FloatArray,
    short_term: FloatArray,
    memory_part: FloatArray,
    chunks: int,
) -> None:
    """Time loop with one BLAS call per step for the recurrent product (large B x H)."""
    batch, steps, _ = projected.shape
    recurrent = np.empty((batch, projected.shape[2]), projected.dtype)  # (B, 4H), reused
    weight_hh_t = weight_hh.T  # (H, 4H) view; BLAS reads it transposed, no copy
    record = memory_part.shape[0] > 0
    for t in range(steps):
        prev_h = h0 if t == 0 else short_term[:, t - 1]  # (B, H), rows T*H apart
        np.matmul(prev_h, weight_hh_t, out=recurrent)
        if record:
            memory_part[:, t] = recurrent
        if chunks > 1:
            fused.forward_pointwise_parallel(t, projected, recurrent, bias, c0, gates,
                                             long_term, short_term, chunks)
        else:
            fused.forward_pointwise(t, projected, recurrent, bias, c0, gates, long_term,
                                    short_term)


def layer_backward(
    record: LayerTrace,
    weight_ih: FloatArray,
    weight_hh: FloatArray,
    grad_short_term_memory: FloatArray,
    grad_final_long_term_memory: FloatArray,
    *,
    out: tuple[FloatArray, FloatArray, FloatArray] | None = None,
) -> LayerGradients:
    """Backpropagate through time over one layer with the fused compiled kernels.

    Same contract as :func:`lstmlens.reference.layer_backward`.

    Parameters
    ----------
    record : LayerTrace
        The layer's forward record (weighted sums not needed).
    weight_ih, weight_hh : (4H, I), (4H, H)
        The layer's weights.
    grad_short_term_memory : (B, T, H)
        dL/dh_t (short-term memory) arriving from outside the recurrence at every step.
    grad_final_long_term_memory : (B, H)
        dL/dc_T (long-term memory) from outside.
    out : (grad_weight_ih, grad_weight_hh, grad_bias) or None
        Preallocated C-contiguous arrays to write the parameter gradients into (the network
        passes views of its flat gradient buffer); new arrays when None.

    Returns
    -------
    LayerGradients
    """
    x = record.inputs
    dtype = x.dtype
    batch, steps, features = x.shape
    hidden = record.hidden_size
    w_hh = _as(weight_hh, dtype)
    grad_h_seq = _as(grad_short_term_memory, dtype)
    grad_c = np.array(grad_final_long_term_memory, dtype=dtype, order="C")  # updated in place
    grad_gates = np.empty((batch, steps, 4 * hidden), dtype)  # dL/dz_t, (B, T, 4H)
    one = dtype.type(1)
    chunks = thread_chunks(batch, steps, hidden)
    c0 = _as(record.initial_long_term_memory, dtype)
    gates, long_term = record.gates, record.long_term_memory
    if uses_blas(batch, hidden):
        grad_h0 = np.zeros((batch, hidden), dtype)  # dz_{t+1} @ W_hh, reused every step
        for t in range(steps - 1, -1, -1):
            if chunks > 1:
                fused.backward_pointwise_parallel(t, gates, long_term, c0, grad_h0, grad_h_seq,
                                                  grad_c, grad_gates, one, chunks)
            else:
                fused.backward_pointwise(t, gates, long_term, c0, grad_h0, grad_h_seq, grad_c,
                                         grad_gates, one)
            np.matmul(grad_gates[:, t], w_hh, out=grad_h0)  # (B, 4H) @ (4H, H)
        grad_c0 = grad_c
    else:
        grad_h0 = np.empty((batch, hidden), dtype)
        grad_c0 = grad_c  # dL/dc_T in, dL/dc_0 out
        args = (gates, long_term, c0, w_hh, grad_h_seq, grad_gates, grad_h0, grad_c0, one)
        if chunks > 1:
            def backward_rows(a: int, b: int) -> None:
                fused.backward_sequence(gates[a:b], long_term[a:b], c0[a:b], w_hh,
                                        grad_h_seq[a:b], grad_gates[a:b], grad_h0[a:b],
                                        grad_c0[a:b], one)

            run_row_blocks(backward_rows, batch, chunks)
        else:
            fused.backward_sequence(*args)
    if out is None:
        out = (np.empty((4 * hidden, features), dtype), np.empty((4 * hidden, hidden), dtype),
               np.empty(4 * hidden, dtype))
    grad_w_ih, grad_w_hh, grad_bias = out
    rows = batch * steps
    dz = grad_gates.reshape(rows, 4 * hidden)  # (B*T, 4H)
    x_rows = x.reshape(rows, features)
    previous_h = _previous_short_term(record).reshape(rows, hidden)
    w_ih = _as(weight_ih, dtype)
    if rows * 4 * hidden * (features + hidden) >= BLAS_MIN_GEMM_WORK:
        np.matmul(dz.T, x_rows, out=grad_w_ih)  # (4H, I)
        np.matmul(dz.T, previous_h, out=grad_w_hh)  # (4H, H)
        dz.sum(axis=0, out=grad_bias)
        grad_inputs = np.matmul(dz, w_ih)  # (B*T, I)
    else:
        grad_inputs = np.empty((rows, features), dtype)
        fused.weight_gradients(dz, x_rows, previous_h, w_ih, grad_w_ih, grad_w_hh, grad_bias,
                               grad_inputs)
    grad_inputs = grad_inputs.reshape(batch, steps, features)
    return LayerGradients(
        grad_inputs=grad_inputs,
        grad_weight_ih=grad_w_ih,
        grad_weight_hh=grad_w_hh,
        grad_bias=grad_bias,
        grad_initial_short_term_memory=grad_h0,
        grad_initial_long_term_memory=grad_c0,
    )


def _previous_short_term(record: LayerTrace) -> FloatArray:
    """h_{t-1} for every step, (B, T, H) C-contiguous: h_0 then h_1 .. h_{T-1}."""
    short_term = record.short_term_memory
    previous = np.empty_like(short_term)
    previous[:, 0] = record.initial_short_term_memory
    previous[:, 1:] = short_term[:, :-1]
    return previous
