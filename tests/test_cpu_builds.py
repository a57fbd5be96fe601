"""The kernels as built for a CPU without AVX-512, checked on a machine that has it.

The register blocks and the forward path are chosen by what the CPU offers
(:mod:`lstmlens.cpu`): 16-column backward blocks, cache-blocked products and the lanes
forward without AVX-512, the tiles' 64 columns with it. A test run exercises only its
machine's build, so here a machine with AVX-512 also builds the AVX2 kernels -- Numba told
to compile for the same CPU minus the AVX-512 features, in a cache of their own -- and runs
the exact comparisons of ``test_kernels.py`` on them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import llvmlite.binding as llvm
import pytest

from lstmlens import cpu

ROOT = Path(__file__).resolve().parents[1]


def _features_without_avx512() -> str:
    llvm.initialize_native_target()
    features = llvm.get_host_cpu_features()
    return ",".join(("-" if name.startswith("avx512") else ("+" if on else "-")) + name
                    for name, on in features.items())


@pytest.mark.skipif(not cpu.has_avx512(),
                    reason="this machine builds the kernels without AVX-512 already")
def test_the_build_without_avx512_matches_the_reference(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CPU_FEATURES": _features_without_avx512(),
           "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    configuration = subprocess.run(
        [sys.executable, "-c", "from lstmlens import blocks, cpu, kernels; "
         "print(cpu.has_avx512(), blocks.WIDTH, blocks.PRODUCT_TILES, kernels.LANES_MAX_HIDDEN)"],
        env=env, capture_output=True, text=True, check=True)
    assert configuration.stdout.split() == ["False", "16", "4", str(1 << 30)]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "test_kernels.py"), "-k",
         "compiled_matches_reference_float64 or float32_agrees_with_float64"],
        env=env, capture_output=True, text=True, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout
