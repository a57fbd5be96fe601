"""lstmlens.memory: freed arrays are reused, so training steps do not fault in new pages."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from lstmlens import memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Training steps (forward + backward) of a 256-unit layer while the last results and
# gradients stay alive (as in an optimiser loop); prints the minor page faults per step.
FAULT_PROBE = """
import resource, numpy as np
from lstmlens.network import LSTMNetwork
net = LSTMNetwork.initialize(8, 256, dtype=np.float32, random_state=0)
x = np.random.default_rng(0).standard_normal((32, 24, 8)).astype(np.float32)
result = net.forward(x, keep_for_backward=True)
grad = np.ones((32, 1), np.float32)
def step():
    result = net.forward(x, keep_for_backward=True)
    return result, net.backward(result, grad)
kept = [step() for _ in range(3)]
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    kept = kept[1:] + [step()]
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _faults_per_step(switch: str) -> float:
    env = {**os.environ, memory.ENVIRONMENT_SWITCH: switch}
    done = subprocess.run([sys.executable, "-c", FAULT_PROBE], env=env, check=True,
                          capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def test_the_switch_turns_the_setting_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(memory.ENVIRONMENT_SWITCH, "0")
    assert memory.keep_freed_memory() is False


@pytest.mark.skipif(not GLIBC, reason="the setting applies to glibc's malloc only")
def test_glibc_accepts_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(memory.ENVIRONMENT_SWITCH, raising=False)
    assert memory.keep_freed_memory() is True


@pytest.mark.skipif(not GLIBC, reason="the setting applies to glibc's malloc only")
def test_training_steps_reuse_freed_memory() -> None:
    # A step allocates about 12 MB (3,000 pages); on the development machine about 950 of
    # them were new pages without the setting and 260 with it.
    kept, unset = _faults_per_step("1"), _faults_per_step("0")
    assert kept * 2 < unset, f"page faults per step: {kept} kept, {unset} without"


def test_scratch_reuses_its_memory_and_grows() -> None:
    first = memory.scratch("test.buffer", (4, 5), np.dtype(np.float32))
    first[...] = 1.0
    again = memory.scratch("test.buffer", (2, 3), np.dtype(np.float32))
    assert again.shape == (2, 3) and again.flags.c_contiguous
    assert np.shares_memory(first, again)
    larger = memory.scratch("test.buffer", (10, 10), np.dtype(np.float32))
    assert not np.shares_memory(first, larger)
    other_dtype = memory.scratch("test.buffer", (2, 3), np.dtype(np.float64))
    assert other_dtype.dtype == np.float64 and not np.shares_memory(larger, other_dtype)
    memory.release_scratch()
    assert not np.shares_memory(larger, memory.scratch("test.buffer", (2, 3),
                                                       np.dtype(np.float32)))


def test_backward_results_do_not_share_the_scratch_memory() -> None:
    from lstmlens.network import LSTMNetwork

    net = LSTMNetwork.initialize(3, 20, dtype=np.float32, random_state=0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 3)).astype(np.float32)
    result = net.forward(x, keep_for_backward=True)
    first = net.backward(result, np.ones((5, 1), np.float32))
    kept = {name: value.copy() for name, value in first.parameters.items()}
    kept_inputs = first.inputs.copy()
    other = net.forward(rng.standard_normal((5, 6, 3)).astype(np.float32),
                        keep_for_backward=True)
    net.backward(other, np.ones((5, 1), np.float32))  # reuses the scratch buffers
    for name, value in first.parameters.items():
        np.testing.assert_array_equal(value, kept[name], err_msg=name)
    np.testing.assert_array_equal(first.inputs, kept_inputs)


@pytest.fixture
def reusing(monkeypatch: pytest.MonkeyPatch) -> None:
    """memory.reusable in force for arrays of any size, with an empty pool."""
    monkeypatch.setattr(memory._policy, "keeping", True)
    monkeypatch.setattr(memory, "MMAP_THRESHOLD", 0)
    memory.release_scratch()


F32 = np.dtype(np.float32)


def test_reusable_hands_out_again_only_what_nothing_references(reusing: None) -> None:
    first = memory.reusable("test.record", (6, 5), F32)
    address = first.ctypes.data
    held = memory.reusable("test.record", (6, 5), F32)
    assert not np.shares_memory(first, held)  # both in use: two buffers
    view = first[2:]
    del first
    while_viewed = memory.reusable("test.record", (6, 5), F32)
    assert not np.shares_memory(view, while_viewed)  # a view keeps its buffer in use
    del view, while_viewed
    again = memory.reusable("test.record", (6, 5), F32)
    assert again.ctypes.data == address and again.flags.c_contiguous
    assert address % memory.ALIGNMENT == 0
    assert not np.shares_memory(again, held)
    other_shape = memory.reusable("test.record", (5, 6), F32)
    assert not np.shares_memory(other_shape, again) and not np.shares_memory(other_shape, held)


def test_reusable_keeps_a_few_buffers_per_name(reusing: None) -> None:
    made = [memory.reusable("test.many", (3,), F32) for _ in range(memory.REUSABLE_PER_NAME + 2)]
    kept = memory._scratch.__dict__["reusable"]["test.many"]
    assert len(kept) == memory.REUSABLE_PER_NAME
    assert all(any(owner is array.base for array in made[2:]) for owner in kept)  # the newest


def test_reusable_keeps_nothing_when_the_setting_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory._policy, "keeping", False)
    monkeypatch.setattr(memory, "MMAP_THRESHOLD", 0)
    array = memory.reusable("test.off", (4,), F32)
    assert sys.getrefcount(array) == 2  # this name and the argument: no pool holds it


def test_forward_records_reused_between_training_steps_are_correct(reusing: None) -> None:
    from lstmlens.network import LSTMNetwork

    net = LSTMNetwork.initialize(3, 20, num_layers=2, dtype=np.float32, random_state=0)
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal((4, 6, 3)).astype(np.float32) for _ in range(3)]
    expected = [LSTMNetwork(net.parameters).forward(x, keep_for_backward=True) for x in inputs]
    first = net.forward(inputs[0], keep_for_backward=True)
    second = net.forward(inputs[1], keep_for_backward=True)  # first still held: new buffers
    gates = [record.gates for record in first.records + second.records]
    assert not any(np.shares_memory(a, b) for i, a in enumerate(gates) for b in gates[i + 1:])
    addresses = {record.gates.ctypes.data for record in first.records}
    del first, gates
    third = net.forward(inputs[2], keep_for_backward=True)
    assert {record.gates.ctypes.data for record in third.records} == addresses
    for result, want in ((second, expected[1]), (third, expected[2])):
        for record, reference in zip(result.records, want.records, strict=True):
            np.testing.assert_array_equal(record.gates, reference.gates)
            np.testing.assert_array_equal(record.short_term_memory, reference.short_term_memory)
        np.testing.assert_array_equal(result.output, want.output)


def test_reusable_keeps_at_most_its_byte_limit(reusing: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    owner = 3 * 4 + memory.ALIGNMENT - 1  # the bytes kept for three float32, aligned
    monkeypatch.setattr(memory, "REUSABLE_BYTES", 3 * owner + owner // 2)
    small = [memory.reusable(name, (3,), F32) for name in ("test.a", "test.b", "test.c")]
    assert sum(len(v) for v in memory._scratch.__dict__["reusable"].values()) == 3
    memory.reusable("test.d", (3,), F32)  # four kept would pass the limit
    kept = [b for v in memory._scratch.__dict__["reusable"].values() for b in v]
    assert sum(b.nbytes for b in kept) <= memory.REUSABLE_BYTES and len(kept) == 3
    too_large = memory.reusable("test.e", (60,), F32)
    assert not any(b is too_large.base for v in memory._scratch.__dict__["reusable"].values()
                   for b in v)
    del small
