"""The compiled kernels against the readable reference, streaming, and input validation.

Tolerances
----------
* compiled float64 vs reference float64: 1e-11 absolute (only the summation order of the
  matrix products differs).
* compiled float32 vs reference float64 on the same data: 2e-5 absolute for the forward
  values, 1e-4 absolute + 1e-4 relative for gradients. float32 carries ~6e-8 relative
  rounding per operation, and the rational tanh/sigmoid used in float32 is within 4e-7 of
  the exact functions; both are damped by the gates over a few steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from lstmlens import kernels, reference
from lstmlens.network import LSTMNetwork, LSTMState
from lstmlens.trace import LayerTrace

# (batch, steps, features, hidden): B=1, T=1, one feature, odd sizes.
SHAPES = [(1, 1, 1, 1), (1, 6, 3, 5), (3, 1, 2, 4), (4, 7, 8, 16), (2, 3, 1, 33)]
TRACE_FIELDS = ("gates", "long_term_memory", "short_term_memory", "input_part", "memory_part")
GRAD_FIELDS = ("grad_inputs", "grad_weight_ih", "grad_weight_hh", "grad_bias",
               "grad_initial_short_term_memory", "grad_initial_long_term_memory")
NEVER, ALWAYS = 1 << 60, 0
PATHS = {
    # name: (recurrent product in BLAS, threads for whole sequences, threads per step,
    #        projection and gradient products in BLAS) -- each "from this size on"
    "fused-serial": (NEVER, NEVER, NEVER, NEVER),
    "fused-threads": (NEVER, ALWAYS, ALWAYS, ALWAYS),
    "blas-serial": (ALWAYS, NEVER, NEVER, NEVER),
    "blas-threads": (ALWAYS, ALWAYS, ALWAYS, ALWAYS),
}


@pytest.fixture(params=list(PATHS))
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Force one of the four execution paths whatever the shape."""
    blas, sequence_work, step_units, gemm = PATHS[request.param]
    monkeypatch.setattr(kernels, "BLAS_MIN_BATCH_HIDDEN", blas)
    monkeypatch.setattr(kernels, "BLAS_MIN_GEMM_WORK", gemm)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_SEQUENCE_WORK", sequence_work)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_STEP_UNITS", step_units)
    yield request.param


def _layer(shape: tuple[int, int, int, int], dtype: type[np.floating], seed: int = 0):  # type: ignore[no-untyped-def]
    batch, steps, features, hidden = shape
    rng = np.random.default_rng(seed + sum(shape))

    def draw(*dims: int, scale: float = 1.0) -> np.ndarray:
        return (rng.standard_normal(dims) * scale).astype(dtype)

    args = (draw(batch, steps, features), draw(batch, hidden, scale=0.5), draw(batch, hidden),
            draw(4 * hidden, features, scale=0.6), draw(4 * hidden, hidden, scale=0.6),
            draw(4 * hidden, scale=0.5), draw(4 * hidden, scale=0.5))
    grads = (draw(batch, steps, hidden), draw(batch, hidden))
    return args, grads


def _compare_trace(got: LayerTrace, want: LayerTrace, atol: float) -> None:
    for name in TRACE_FIELDS:
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), atol=atol,
                                   err_msg=name)
    np.testing.assert_allclose(got.bias, want.bias, atol=atol)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_compiled_matches_reference_float64(shape: tuple[int, int, int, int], path: str) -> None:
    args, (grad_h, grad_c) = _layer(shape, np.float64)
    got = kernels.layer_forward(*args, True)
    want = reference.layer_forward(*args, True)
    _compare_trace(got, want, 1e-11)
    light = kernels.layer_forward(*args, False)
    assert light.input_part is None and light.memory_part is None
    np.testing.assert_allclose(light.short_term_memory, got.short_term_memory, atol=1e-14)

    got_grads = kernels.layer_backward(light, args[3], args[4], grad_h, grad_c)
    want_grads = reference.layer_backward(want, args[3], args[4], grad_h, grad_c)
    for name in GRAD_FIELDS:
        np.testing.assert_allclose(getattr(got_grads, name), getattr(want_grads, name),
                                   atol=1e-11, err_msg=name)


@pytest.mark.parametrize("shape", SHAPES[1:4], ids=str)
def test_float32_agrees_with_float64(shape: tuple[int, int, int, int], path: str) -> None:
    args64, grads64 = _layer(shape, np.float64)
    args32 = tuple(a.astype(np.float32) for a in args64)
    got = kernels.layer_forward(*args32, True)
    assert got.gates.dtype == np.float32 and got.memory_part is not None
    _compare_trace(got, reference.layer_forward(*args64, True), 2e-5)
    got_grads = kernels.layer_backward(got, args32[3], args32[4],
                                       *(g.astype(np.float32) for g in grads64))
    want_grads = reference.layer_backward(reference.layer_forward(*args64, False), args64[3],
                                          args64[4], *grads64)
    for name in GRAD_FIELDS:
        got_value = getattr(got_grads, name)
        assert got_value.dtype == np.float32, name
        np.testing.assert_allclose(got_value, getattr(want_grads, name), atol=1e-4, rtol=1e-4,
                                   err_msg=name)


def test_default_thresholds_pick_blas_for_large_batch_times_hidden() -> None:
    assert not kernels.uses_blas(1, 256)  # one sequence: the fused loop wins
    assert not kernels.uses_blas(8, 64)
    assert kernels.uses_blas(32, 64)
    assert kernels.uses_blas(256, 128)
    assert kernels.thread_chunks(1, 96, 256) == 1
    assert kernels.thread_chunks(1, 24, 8) == 1


def test_large_shape_on_the_default_blas_path_matches_reference() -> None:
    shape = (96, 3, 8, 96)
    assert kernels.uses_blas(shape[0], shape[3])
    args, (grad_h, grad_c) = _layer(shape, np.float64)
    _compare_trace(kernels.layer_forward(*args, True), reference.layer_forward(*args, True),
                   1e-11)
    got = kernels.layer_backward(kernels.layer_forward(*args, False), args[3], args[4],
                                 grad_h, grad_c)
    want = reference.layer_backward(reference.layer_forward(*args, False), args[3], args[4],
                                    grad_h, grad_c)
    for name in GRAD_FIELDS:
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), atol=1e-10,
                                   err_msg=name)


# ---------------------------------------------------------------------------- streaming
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("layers,batch", [(1, 1), (2, 1), (3, 4)])
def test_streaming_one_value_at_a_time_equals_whole_sequence(
    dtype: type[np.floating], layers: int, batch: int
) -> None:
    network = LSTMNetwork.initialize(2, 6, layers, 3, dtype=dtype, random_state=layers)
    rng = np.random.default_rng(batch)
    x = rng.standard_normal((batch, 9, 2)).astype(dtype)
    state = LSTMState(rng.standard_normal((layers, batch, 6)).astype(dtype),
                      rng.standard_normal((layers, batch, 6)).astype(dtype))
    whole = network.forward(x, state)
    streamer = network.stream(batch=batch, state=state)
    outputs = [streamer.push(x[:, t] if batch > 1 else x[0, t]) for t in range(9)]
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(outputs[-1], whole.output, atol=tol)
    np.testing.assert_allclose(streamer.state.short_term_memory,
                               whole.final_state.short_term_memory, atol=tol)
    np.testing.assert_allclose(streamer.state.long_term_memory,
                               whole.final_state.long_term_memory, atol=tol)
    step_output, step_state = network.step(x[:, 0], state)
    np.testing.assert_allclose(step_output, network.forward(x[:, :1], state).output, atol=tol)
    assert step_state.short_term_memory.shape == (layers, batch, 6)


def test_streamer_follows_optimiser_updates_and_rejects_bad_values() -> None:
    from lstmlens.optim import Adam

    network = LSTMNetwork.initialize(1, 4, dtype=np.float64, random_state=0)
    streamer = network.stream()
    first = streamer.push(0.5)
    network.parameters["head.bias"] = network.parameters["head.bias"] + 1.0
    streamer.reset()
    assert streamer.push(0.5)[0, 0] == pytest.approx(first[0, 0] + 1.0)
    result = network.forward(np.ones((1, 3, 1)), keep_for_backward=True)
    Adam(network, lr=0.1).step(network.backward(result, np.ones((1, 1))))
    streamer.reset()
    np.testing.assert_allclose(streamer.push(0.5), network.forward(np.full((1, 1, 1), 0.5)).output,
                               atol=1e-12)
    before = streamer.state
    with pytest.raises(ValueError, match="NaN"):
        streamer.push(np.nan)
    np.testing.assert_array_equal(streamer.state.long_term_memory, before.long_term_memory)
    with pytest.raises(ValueError, match=r"\(1, 1\)"):
        streamer.push(np.ones(3))


# ---------------------------------------------------------------------------- validation
@pytest.fixture
def network() -> LSTMNetwork:
    return LSTMNetwork.initialize(3, 4, num_layers=2, dtype=np.float32, random_state=0)


@pytest.mark.parametrize(
    "inputs,error,pattern",
    [
        (np.zeros((2, 3)), ValueError, r"inputs must have shape \(batch, time, features\)"),
        (np.zeros((2, 5, 2)), ValueError, r"inputs have 2 features.*input_size=3"),
        (np.full((1, 2, 3), np.nan), ValueError, "inputs contain NaN or infinite"),
        (np.full((1, 2, 3), np.inf), ValueError, "inputs contain NaN or infinite"),
        (np.zeros((1, 2, 3), dtype=np.int64), TypeError, "inputs must be a float array"),
        (np.zeros((0, 2, 3)), ValueError, "at least one sequence"),
    ],
    ids=["rank", "features", "nan", "inf", "integer", "empty"],
)
def test_bad_inputs_name_the_argument_and_expected_shape(
    network: LSTMNetwork, inputs: np.ndarray, error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern):
        network.forward(inputs)


def test_bad_initial_state_names_the_field_and_expected_shape(network: LSTMNetwork) -> None:
    good = network.zero_state(2)
    bad = LSTMState(np.zeros((2, 3, 4)), good.long_term_memory)
    with pytest.raises(ValueError, match=r"initial_state.short_term_memory.*\(2, 2, 4\)"):
        network.forward(np.zeros((2, 5, 3)), bad)
    with pytest.raises(ValueError, match=r"state.long_term_memory.*\(2, 2, 4\)"):
        network.stream(batch=2, state=LSTMState(good.short_term_memory, np.zeros((2, 2))))


def test_default_backend_is_compiled_and_reference_stays_selectable() -> None:
    assert LSTMNetwork.initialize(2, 3).backend == "compiled"
    assert LSTMNetwork.initialize(2, 3, backend="reference").backend == "reference"
    with pytest.raises(ValueError, match="backend"):
        LSTMNetwork.initialize(2, 3, backend="gpu")  # type: ignore[arg-type]


def test_parameters_stay_views_of_the_flat_buffer(network: LSTMNetwork) -> None:
    import copy
    import pickle

    network.parameters["head.bias"] = np.array([2.5])
    assert network.flat_parameters[-1] == np.float32(2.5)
    with pytest.raises(ValueError, match=r"head.weight must have shape \(1, 4\)"):
        network.parameters["head.weight"] = np.zeros((4, 1))
    with pytest.raises(KeyError, match="not a parameter"):
        network.parameters["extra"] = np.zeros(1)
    for twin in (copy.deepcopy(network), pickle.loads(pickle.dumps(network)), network.copy()):
        assert all(v.base is twin.flat_parameters for v in twin.parameters.values())
        np.testing.assert_array_equal(twin.flat_parameters, network.flat_parameters)
        assert twin.flat_parameters is not network.flat_parameters


def test_row_blocks_reraise_a_failure_from_a_helper_thread() -> None:
    """A block that fails on a helper thread must not be silently dropped."""
    import threading
    import time

    from lstmlens.kernels import run_row_blocks

    helper_ran = threading.Event()

    def run(first: int, last: int) -> None:
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.02)  # leave blocks for the helper to claim
            return
        helper_ran.set()
        raise RuntimeError(f"block {first}-{last} failed on a helper")

    with pytest.raises(RuntimeError, match="failed on a helper"):
        run_row_blocks(run, batch=64, threads=2)
    assert helper_ran.is_set()
