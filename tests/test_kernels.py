"""The compiled kernels against the readable reference, streaming, and input validation.

Tolerances
----------
* compiled float64 vs reference float64: 1e-11 absolute (only the summation order of the
  matrix products differs).
* the trace kernel vs the fast kernel: bit for bit in float64, to the last bit or two in
  float32 (see the test).
* compiled float32 vs reference float64 on the same data: 2e-5 absolute for the forward
  values, 1e-4 absolute + 1e-4 relative for gradients. float32 carries ~6e-8 relative
  rounding per operation, and the rational tanh/sigmoid used in float32 is within 4e-7 of
  the exact functions; both are damped by the gates over a few steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import numba
import numpy as np
import pytest

from lstmlens import bptt, fused, kernels, lanes, layouts, reference, sequences, splits
from lstmlens.cpu import has_avx512
from lstmlens.network import LSTMNetwork, LSTMState
from lstmlens.packed import PackedLayer
from lstmlens.trace import LayerTrace

# (batch, steps, features, hidden): B=1, T=1, one feature, odd sizes, a remainder of rows
# after the 4-row tiles, a partly padded last tile (H = 33, 20, 70), a last tile of half the
# units (H = 24, compiled apart from the others) and three blocks of lanes, the last one
# partly padding (B = 37).
SHAPES = [(1, 1, 1, 1), (1, 6, 3, 5), (3, 1, 2, 4), (5, 4, 2, 24), (4, 7, 8, 16),
          (2, 3, 1, 33), (9, 5, 3, 20), (11, 4, 5, 70), (37, 4, 2, 6)]
TRACE_FIELDS = ("gates", "long_term_memory", "short_term_memory", "input_part", "memory_part")
GRAD_FIELDS = ("grad_inputs", "grad_weight_ih", "grad_weight_hh", "grad_bias",
               "grad_initial_short_term_memory", "grad_initial_long_term_memory")
PATHS = ("serial", "rows", "units", "lanes", "lanes-threads")


def test_the_shapes_cover_forward_sums_in_stages() -> None:
    """Wide float64 layers sum over h_{t-1} in stages (:data:`sequences.STAGE_BYTES`): one
    of SHAPES must have more than one, or the tests below would not check the stages."""
    row_bytes = 4 * layouts.UNITS * np.dtype(np.float64).itemsize
    assert max(sequences._stage_count(shape[3], row_bytes) for shape in SHAPES) > 1


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Whatever the shape: run on the calling thread, split the rows over three blocks, or
    (where there are two tiles or more) split the units over two threads; or run forward
    with the rows in vector lanes, on the calling thread or blocks of lanes over threads."""
    monkeypatch.setattr(kernels, "_unit_split_failed", False)
    serial = request.param in ("serial", "lanes")
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 1 << 60 if serial else 0)
    on_lanes = request.param.startswith("lanes")
    monkeypatch.setattr(kernels, "LANES_MIN_BATCH", 1 if on_lanes else 1 << 60)
    monkeypatch.setattr(kernels, "LANES_MAX_HIDDEN", 1 << 30)  # every width, on every CPU
    for name in ("FORECAST_UNIT_SPLIT_MIN_TILES", "KEEP_UNIT_SPLIT_MIN_TILES"):
        monkeypatch.setattr(kernels, name, 2 if request.param == "units" else 1 << 60)
    if request.param == "lanes-threads":
        monkeypatch.setattr(kernels, "UNIT_SPLIT_MAX_BATCH", 0)
        monkeypatch.setattr(numba, "get_num_threads", lambda: 3)
    if request.param == "rows":
        monkeypatch.setattr(kernels, "UNIT_SPLIT_MAX_BATCH", 0)
        monkeypatch.setattr(numba, "get_num_threads", lambda: 3)  # uneven blocks of rows
        # and the copies between layouts shared out too, as for wide layers
        monkeypatch.setattr(layouts, "PARALLEL_COPY_MIN_HIDDEN", 1)
    if request.param == "units":
        monkeypatch.setattr(kernels, "UNIT_SPLIT_MAX_BATCH", 1 << 60)
        monkeypatch.setattr(kernels, "UNIT_SPLIT_MIN_TILES", {"forward": 2, "backward": 2})
        monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    yield request.param
    assert not kernels._unit_split_failed  # the threads met at every barrier


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


@pytest.mark.parametrize("shape", SHAPES[1:5], ids=str)
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


def test_forward_passes_of_wide_layers_split_their_units_whatever_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kernels, "_unit_split_failed", False)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    assert kernels.unit_parts(256, 24, 8, 64, "forecast") == 2
    assert kernels.unit_parts(256, 24, 8, 64, "forward") == 1  # keeping gates: rows
    assert kernels.unit_parts(256, 24, 8, 128, "forward") == 1
    assert kernels.unit_parts(32, 24, 8, 256, "forward") == 2  # 16 tiles: their weights
    assert kernels.unit_parts(256, 24, 8, 256, "forward") == 2  # pass a 1 MiB L2
    assert kernels.unit_parts(256, 24, 8, 256, "backward") == 1
    assert kernels.unit_parts(256, 24, 8, 32, "forecast") == 1  # two tiles: rows
    assert kernels.unit_parts(4, 24, 8, 64, "forecast") == 1  # a small batch needs 8 tiles
    assert kernels.unit_parts(4, 24, 8, 128, "forecast") == 2
    assert kernels.unit_parts(8, 1, 1, 64, "forecast") == 1  # too little work for threads


def test_rows_are_split_over_threads_only_when_the_work_pays_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    assert kernels.thread_chunks(1, 96, 8, 256) == 1  # one sequence: nothing to split
    assert kernels.thread_chunks(32, 2, 1, 4) == 1  # a few microseconds of work
    assert kernels.thread_chunks(32, 24, 8, 64) == 2
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)
    assert kernels.thread_chunks(256, 96, 8, 256) == 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("batch", [6, 2 * lanes.LANES + 5], ids=["tiles", "lanes"])
def test_the_trace_records_what_the_fast_path_computes(dtype: type[np.floating], batch: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Explanations read the trace kernel's numbers; forecasts come from the fast kernel
    (the tiles for a small batch, :mod:`lstmlens.lanes` for a large one: here three blocks,
    the last one part padding).

    All run the same arithmetic in the same order: float64 agrees bit for bit. In
    float32 the compiler may fuse a multiply-add of the rational tanh in one kernel and not
    in the other (seen between freshly compiled and cached machine code), a last-bit
    difference.
    """
    monkeypatch.setattr(kernels, "LANES_MAX_HIDDEN", 1 << 30)  # the lanes on every CPU
    assert (batch >= kernels.LANES_MIN_BATCH) == (batch > lanes.LANES)  # each id its path
    args, _ = _layer((batch, 9, 3, 21), dtype)
    traced = kernels.layer_forward(*args, True)
    fast = kernels.layer_forward(*args, False)
    tolerance = {"rtol": 0, "atol": 0} if dtype == np.float64 else {"rtol": 4e-6, "atol": 4e-7}
    for name in ("gates", "long_term_memory", "short_term_memory"):
        np.testing.assert_allclose(getattr(traced, name), getattr(fast, name), err_msg=name,
                                   **tolerance)
    packed = PackedLayer(*args[3:], np.dtype(dtype))
    final_h, final_c, sequence = kernels.layer_outputs(args[0], args[1], args[2], packed,
                                                       sequence=True)
    np.testing.assert_array_equal(final_h, fast.short_term_memory[:, -1])
    np.testing.assert_array_equal(final_c, fast.long_term_memory[:, -1])
    np.testing.assert_array_equal(sequence, fast.short_term_memory)
    weighted = traced.input_part + traced.memory_part + traced.bias
    want = reference.layer_forward(*args, True)
    np.testing.assert_allclose(weighted, want.input_part + want.memory_part + want.bias,
                               atol=1e-11 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("hidden", [4, 8, 12, 16])
def test_which_layers_a_large_batch_runs_forward_on_the_lanes(
        hidden: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without AVX-512 every width runs on the lanes; with it only a layer of at most half
    a tile of units (the tiles would be half padding or more), wider ones on the tiles."""
    calls: list[str] = []
    for name in ("forward", "forward_parallel"):
        original = getattr(lanes, name)

        def counted(*arguments, _name=name, _original=original):  # type: ignore[no-untyped-def]
            calls.append(_name)
            return _original(*arguments)

        monkeypatch.setattr(lanes, name, counted)
    args, _ = _layer((kernels.LANES_MIN_BATCH, 3, 2, hidden), np.float32)
    packed = PackedLayer(*args[3:], np.dtype(np.float32))
    final_h, _, _ = kernels.layer_outputs(args[0], args[1], args[2], packed, sequence=False)
    on_lanes = hidden <= layouts.UNITS // 2 or not has_avx512()
    assert len(calls) == (1 if on_lanes else 0)
    want = reference.layer_forward(*args, False)
    np.testing.assert_allclose(final_h, want.short_term_memory[:, -1], atol=1e-5)


@pytest.mark.parametrize("hidden", [1, 5, 16, 21])
def test_lane_layout_is_pytorch_weights_transposed(hidden: int) -> None:
    args, _ = _layer((1, 1, 3, hidden), np.float64)
    weight_ih, weight_hh, bias_ih, bias_hh = args[3:]
    packed = PackedLayer(weight_ih, weight_hh, bias_ih, bias_hh, np.dtype(np.float64))
    weights, bias = packed.lane_layout
    stacked = np.concatenate((weight_ih, weight_hh), axis=1)  # (4H, I + H), PyTorch's order
    groups = stacked.reshape(-1, lanes.GATE_ROWS, stacked.shape[1]).transpose(0, 2, 1)
    np.testing.assert_array_equal(weights, groups)
    np.testing.assert_array_equal(bias, bias_ih + bias_hh)
    assert weights.flags.c_contiguous and bias.flags.c_contiguous


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_units_shared_out_over_threads_give_the_serial_results(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch too small to split by rows splits its tiles of units, meeting every step."""
    args, (grad_h, grad_c) = _layer((batch, 6, 3, 40), np.float32)  # 3 tiles, one partial
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 1 << 60)
    serial = kernels.layer_forward(*args, False)
    serial_grads = kernels.layer_backward(serial, args[3], args[4], grad_h, grad_c)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(kernels, "UNIT_SPLIT_MIN_TILES", {"forward": 2, "backward": 2})
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    assert kernels.unit_parts(batch, 6, 3, 40) == 2 and kernels.thread_chunks(batch, 6, 3, 40) == 1
    shared = kernels.layer_forward(*args, False)
    shared_grads = kernels.layer_backward(shared, args[3], args[4], grad_h, grad_c)
    assert not kernels._unit_split_failed
    for name in ("gates", "long_term_memory", "short_term_memory"):
        np.testing.assert_array_equal(getattr(shared, name), getattr(serial, name), err_msg=name)
    for name in GRAD_FIELDS:
        np.testing.assert_allclose(getattr(shared_grads, name), getattr(serial_grads, name),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_unit_split_whose_threads_never_meet_falls_back_to_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a single thread the two parts run one after the other: the barrier times out,
    the work is redone on one thread, and small batches stay on one thread afterwards."""
    args, (grad_h, grad_c) = _layer((2, 4, 3, 40), np.float32)
    expected = kernels.layer_forward(*args, False)
    expected_grads = kernels.layer_backward(expected, args[3], args[4], grad_h, grad_c)
    monkeypatch.setattr(kernels, "_unit_split_failed", False)
    monkeypatch.setattr(kernels, "unit_parts", lambda *shape: 2)  # whatever the thread count
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        got = kernels.layer_forward(*args, False)
        assert kernels._unit_split_failed
        monkeypatch.setattr(kernels, "_unit_split_failed", False)
        got_grads = kernels.layer_backward(got, args[3], args[4], grad_h, grad_c)
        assert kernels._unit_split_failed
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(got.short_term_memory, expected.short_term_memory)
    for name in GRAD_FIELDS:
        np.testing.assert_allclose(getattr(got_grads, name), getattr(expected_grads, name),
                                   rtol=1e-6, atol=1e-7, err_msg=name)


def test_threads_give_the_serial_results(monkeypatch: pytest.MonkeyPatch) -> None:
    args, (grad_h, grad_c) = _layer((37, 5, 3, 40), np.float32)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 1 << 60)
    serial = kernels.layer_forward(*args, False)
    serial_grads = kernels.layer_backward(serial, args[3], args[4], grad_h, grad_c)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    assert kernels.thread_chunks(37, 5, 3, 40) == 2
    threaded = kernels.layer_forward(*args, False)
    threaded_grads = kernels.layer_backward(threaded, args[3], args[4], grad_h, grad_c)
    np.testing.assert_array_equal(threaded.short_term_memory, serial.short_term_memory)
    for name in GRAD_FIELDS:  # the weight gradients are summed per block: rounding differs
        np.testing.assert_allclose(getattr(threaded_grads, name), getattr(serial_grads, name),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("hidden", [1, 8, 9, 16, 33])
def test_tile_layout_round_trips_and_pads_with_zeros(hidden: int) -> None:
    rng = np.random.default_rng(hidden)
    features = 3
    weight_ih = rng.standard_normal((4 * hidden, features)).astype(np.float32)
    weight_hh = rng.standard_normal((4 * hidden, hidden)).astype(np.float32)
    bias_ih, bias_hh = rng.standard_normal((2, 4 * hidden)).astype(np.float32)
    packed = PackedLayer(weight_ih, weight_hh, bias_ih, bias_hh, np.dtype(np.float32))
    units = layouts.UNITS
    tiles = packed.weights.shape[0]
    assert tiles * units >= hidden > (tiles - 1) * units
    # Gate g of unit j sits in tile j // U, column g * U + j % U: row k of W_ih.T there.
    for gate in range(4):
        for unit in range(hidden):
            column = gate * units + unit % units
            np.testing.assert_array_equal(packed.weights[unit // units, :features, column],
                                          weight_ih[gate * hidden + unit])
            np.testing.assert_array_equal(packed.weights[unit // units, features:, column],
                                          weight_hh[gate * hidden + unit])
            assert packed.bias[unit // units, column] == pytest.approx(
                bias_ih[gate * hidden + unit] + bias_hh[gate * hidden + unit])
    padding = np.ones((tiles, units), bool)
    padding.reshape(-1)[:hidden] = False
    for gate in range(4):
        assert not packed.weights[:, :, gate * units : (gate + 1) * units][
            np.broadcast_to(padding[:, None, :], (tiles, features + hidden, units))].any()
    # Gradients in tile layout come back to PyTorch's layout, summed over row blocks.
    partial = np.stack([packed.weights, 2 * packed.weights])
    partial_bias = np.stack([packed.bias, 2 * packed.bias])
    grads = (np.empty_like(weight_ih), np.empty_like(weight_hh), np.empty_like(bias_ih))
    layouts.unpack_gradients(partial, partial_bias, units, *grads, 0, 1)
    np.testing.assert_allclose(grads[0], 3 * weight_ih, rtol=1e-6)
    np.testing.assert_allclose(grads[1], 3 * weight_hh, rtol=1e-6)
    np.testing.assert_allclose(grads[2], 3 * (bias_ih + bias_hh), rtol=1e-6)


# ---------------------------------------------------------------------------- streaming
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("layers,batch,hidden", [(1, 1, 6), (2, 1, 6), (3, 4, 6), (1, 1, 40),
                                                 (2, 5, 40)])
def test_streaming_one_value_at_a_time_equals_whole_sequence(
    dtype: type[np.floating], layers: int, batch: int, hidden: int
) -> None:
    """Hidden 40 is three tiles, the last partly padding: odd steps go through them
    backwards (see :func:`lstmlens.fused.stream_step`), so 9 steps check both directions."""
    network = LSTMNetwork.initialize(2, hidden, layers, 3, dtype=dtype, random_state=layers)
    rng = np.random.default_rng(batch)
    x = rng.standard_normal((batch, 9, 2)).astype(dtype)
    state = LSTMState(rng.standard_normal((layers, batch, hidden)).astype(dtype),
                      rng.standard_normal((layers, batch, hidden)).astype(dtype))
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
    assert step_state.short_term_memory.shape == (layers, batch, hidden)


@pytest.mark.parametrize("batch", [1, 6])
def test_stream_step_gives_the_same_bits_in_either_tile_direction(batch: int) -> None:
    network = LSTMNetwork.initialize(3, 40, 2, 2, dtype=np.float32, random_state=4)
    x = np.random.default_rng(5).standard_normal(batch * 3).astype(np.float32)
    results = []
    for step in (0, 1):  # forwards, backwards
        streamer = network.stream(batch=batch)
        buffers = streamer._buffers
        assert fused.stream_step(x, buffers.weights, buffers.bias, buffers.head, buffers.state,
                                 buffers.scratch, buffers.out, step)
        results.append((buffers.out.copy(), buffers.state.copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("deep", [False, True], ids=["copy", "deepcopy"])
def test_a_copied_streamer_goes_on_by_itself(deep: bool) -> None:
    import copy

    network = LSTMNetwork.initialize(2, 20, dtype=np.float64, random_state=3)
    streamer = network.stream()
    streamer.push(np.array([0.5, -1.0]))
    twin = copy.deepcopy(streamer) if deep else copy.copy(streamer)
    assert (twin.network is network) is not deep
    x = np.array([1.5, 0.25])
    np.testing.assert_array_equal(twin.push(x), streamer.push(x))  # the same memories so far
    before = streamer.state
    twin.push(x)
    twin.push(-x)
    np.testing.assert_array_equal(streamer.state.long_term_memory, before.long_term_memory)
    assert not np.array_equal(twin.state.long_term_memory, before.long_term_memory)


def test_every_streamer_gets_the_direct_compiled_entry_and_counts_its_steps() -> None:
    """float32 and float64 streamers in one process: each must call its own compiled
    function directly (the dispatcher, holding two signatures, is the slow fallback)."""
    for dtype in (np.float32, np.float64):
        network = LSTMNetwork.initialize(2, 20, dtype=dtype, random_state=0)
        streamer = network.stream()
        assert not isinstance(streamer._step, numba.core.dispatcher.Dispatcher)
        steps = streamer._buffers.addresses.slot(0)
        streamer.push(np.ones(2))
        with pytest.raises(ValueError, match="NaN"):
            streamer.push(np.array([1.0, np.nan]))
        assert streamer._buffers.addresses.slot(0) == steps + 1  # a refused push is no step


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


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("with_state", [False, True], ids=["zeros", "given"])
def test_inference_forward_equals_the_reference_and_the_keeping_path(
        layers: int, with_state: bool) -> None:
    """The inference path (no record kept) starts from zero memories when no state is
    given, carries a given one, and returns final memories of shape (L, B, H) that later
    calls do not overwrite."""
    network = LSTMNetwork.initialize(3, 5, num_layers=layers, dtype=np.float64, random_state=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 3))
    state = None
    if with_state:
        state = LSTMState(rng.standard_normal((layers, 2, 5)), rng.standard_normal((layers, 2, 5)))
    fast = network.forward(x, state)
    kept = network.forward(x, state, keep_for_backward=True)
    checker = LSTMNetwork(network.parameters, backend="reference")
    want = checker.forward(x, state)
    for got in (fast, kept):
        np.testing.assert_allclose(got.output, want.output, atol=1e-12)
        for name in ("short_term_memory", "long_term_memory"):
            np.testing.assert_allclose(getattr(got.final_state, name),
                                       getattr(want.final_state, name), atol=1e-12)
    final = fast.final_state.short_term_memory
    assert final.shape == (layers, 2, 5)
    remembered = final.copy()
    network.forward(rng.standard_normal((2, 6, 3)))
    np.testing.assert_array_equal(final, remembered)


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


@pytest.mark.parametrize("parts", [2, 3])
def test_layout_copies_shared_over_threads_equal_one_thread(parts: int) -> None:
    # 130 units: nine tiles, the last one mostly padding, split unevenly between the parts.
    rng = np.random.default_rng(parts)
    hidden, features, units = 130, 3, layouts.UNITS
    w_ih = rng.standard_normal((4 * hidden, features))
    w_hh = rng.standard_normal((4 * hidden, hidden))
    b_ih, b_hh = rng.standard_normal(4 * hidden), rng.standard_normal(4 * hidden)
    tiles = layouts.tile_count(hidden)
    one = [np.full((tiles, features + hidden, 4 * units), np.nan),
           np.full((tiles, 4 * units), np.nan)]
    many = [np.full_like(one[0], np.nan), np.full_like(one[1], np.nan)]
    layouts.pack_forward(w_ih, w_hh, b_ih, b_hh, units, *one, 0, 1)
    layouts.pack_forward_parallel(parts, w_ih, w_hh, b_ih, b_hh, units, *many)
    for serial, shared in zip(one, many, strict=True):
        np.testing.assert_array_equal(shared, serial)
    for weight, width in ((w_hh, 4 * units), (w_ih, units)):
        shape = (layouts.tile_count(weight.shape[1], width), tiles * 4 * units, width)
        serial, shared = np.full(shape, np.nan), np.full(shape, np.nan)
        layouts.pack_backward(weight, units, width, serial, 0, 1)
        layouts.pack_backward_parallel(parts, weight, units, width, shared)
        np.testing.assert_array_equal(shared, serial)
    partial = rng.standard_normal((2, tiles, features + hidden + 1, 4 * units))
    partial_bias = rng.standard_normal((2, tiles, 4 * units))
    grads_one = [np.full_like(w_ih, np.nan), np.full_like(w_hh, np.nan), np.full_like(b_ih, np.nan)]
    grads_many = [np.full_like(g, np.nan) for g in grads_one]
    # (each call sums the chunks into chunk 0 of its inputs, so each gets its own copies)
    layouts.unpack_gradients(partial.copy(), partial_bias.copy(), units, *grads_one, 0, 1)
    layouts.unpack_gradients_parallel(parts, partial.copy(), partial_bias.copy(), units,
                                      *grads_many)
    for serial, shared in zip(grads_one, grads_many, strict=True):
        assert not np.isnan(serial).any()
        np.testing.assert_array_equal(shared, serial)


def _compiled_signatures(function: numba.core.dispatcher.Dispatcher) -> set[tuple[object, ...]]:
    """The signatures ``function`` was compiled for in this process or, for this source, in
    any run that wrote Numba's cache (a function compiled inside a cached caller is never
    dispatched again, so this process alone may not see it)."""
    signatures = {tuple(signature) for signature in function.signatures}
    try:
        signatures |= {tuple(key[0]) for key in function._cache._cache_file._load_index()}
    except (AttributeError, OSError):  # no cache for it on this machine
        pass
    return signatures


def test_functions_called_on_threads_are_compiled_for_signed_indices_only() -> None:
    """prange's index is unsigned and ``int()`` keeps it so; a function called with it is
    compiled twice, once per sign (36 s of a 200 s first run on a 2-core AVX2 machine), unless
    the caller casts it with ``np.int64``; a literal 0 or 1 is a third version. Runs every
    threaded path, then checks that no signature of the functions they call holds an unsigned
    integer, and that the serial, row-split and unit-split passes share one version of the
    layer loops per mode and dtype: their rows and parts are plain int64."""
    if numba.get_num_threads() < 2:
        pytest.skip("one Numba thread: no threaded path runs")
    rng = np.random.default_rng(0)
    for hidden, batch in ((128, 1), (128, 64), (8, 64)):  # units split, packs; rows; lanes
        network = LSTMNetwork.initialize(3, hidden, dtype=np.float32, random_state=0)
        x = rng.standard_normal((batch, 5, 3)).astype(np.float32)
        result = network.forward(x, keep_for_backward=True)
        network.backward(result, np.ones_like(result.output))
        network.forward(x)
    threaded = (sequences.forward_rows, bptt.backward_rows, splits.row_range_compiled,
                lanes._forward_block, layouts.pack_forward, layouts.pack_backward,
                layouts.unpack_gradients)
    for function in threaded:
        signatures = _compiled_signatures(function)
        assert signatures, f"{function.__name__} never compiled"
        for signature in signatures:
            assert numba.types.uint64 not in signature, (function.__name__, signature)
    # (first, last, part, parts): after the mode in forward_rows, at the start in backward_rows
    for function, counters in ((sequences.forward_rows, slice(1, 5)),
                               (bptt.backward_rows, slice(0, 4))):
        for signature in _compiled_signatures(function):
            assert all(arg == numba.types.int64 for arg in signature[counters]), signature
