"""Smoke run of ``benchmarks/engine.py --quick`` in-process: it runs and writes its JSON."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "engine.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("engine_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


def test_only_a_full_run_replaces_the_recorded_results_by_default() -> None:
    module = _load()
    assert module.parse_args([]).output == module.DEFAULT_OUTPUT
    assert module.parse_args(["--quick"]).output is None
    assert module.parse_args(["--quick", "--output", "x.json"]).output == Path("x.json")


@pytest.mark.slow
def test_quick_engine_benchmark_writes_the_expected_json(tmp_path: Path) -> None:
    module = _load()
    output = tmp_path / "engine.json"
    module.main(["--quick", "--hidden", "8", "--batch", "1", "--time", "4",
                 "--budget", "0.05", "--repeats", "1", "--output", str(output)])
    results = json.loads(output.read_text(encoding="utf-8"))
    assert results["meta"]["cpu"] is None or isinstance(results["meta"]["cpu"], str)
    kind = results["meta"]["cpu_kind"]
    assert set(kind) == {"family", "model", "avx2", "avx512f", "l2_cache"}
    assert kind["avx512f"] == module.has_avx512() or module.numba.config.CPU_FEATURES
    assert set(results) == {"meta", "gemm_peak_gflops", "fma_peak_gflops", "compile", "results",
                            "targets"}
    assert results["gemm_peak_gflops"] > 0
    assert results["fma_peak_gflops"] > 0
    assert {row["mode"] for row in results["results"]} == {"training", "inference", "streaming"}
    for row in results["results"]:
        assert set(row) == {"mode", "hidden", "batch", "time", "lstmlens_per_s", "torch_per_s",
                            "ratio", "lstmlens_best_per_s", "torch_best_per_s", "ratio_best",
                            "gflops", "pct_of_peak", "pct_of_fma_peak", "ceiling"}
        assert row["lstmlens_per_s"] > 0
        if row["mode"] != "streaming":  # no arithmetic runs faster than the FMA peak
            assert 0 < row["pct_of_fma_peak"] <= 100
    assert set(results["targets"]) == {"ratio_at_least_1_everywhere", "ratio_at_least_5_small",
                                       "streaming_at_least_50x", "large_at_least_70pct_peak"}
