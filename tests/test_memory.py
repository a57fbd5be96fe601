"""lstmlens.memory: freed arrays are reused, so training steps do not fault in new pages."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from lstmlens import memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Backward passes of a 256-unit layer while the previous gradients stay alive (as in an
# optimiser loop); prints the minor page faults per pass.
FAULT_PROBE = """
import resource, numpy as np
from lstmlens.network import LSTMNetwork
net = LSTMNetwork.initialize(8, 256, dtype=np.float32, random_state=0)
x = np.random.default_rng(0).standard_normal((32, 24, 8)).astype(np.float32)
result = net.forward(x, keep_for_backward=True)
grad = np.ones((32, 1), np.float32)
kept = [net.backward(result, grad) for _ in range(3)]
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    kept = kept[1:] + [net.backward(result, grad)]
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _faults_per_pass(switch: str) -> float:
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
def test_backward_passes_reuse_freed_memory() -> None:
    # A pass touches about 9 MB of temporaries (2,200 pages); without the setting nearly
    # all were new pages on the development machine, with it about 100.
    kept, unset = _faults_per_pass("1"), _faults_per_pass("0")
    assert kept * 10 < unset, f"page faults per pass: {kept} kept, {unset} without"
