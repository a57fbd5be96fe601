"""Benchmark the lstmlens engine against ``torch.nn.LSTM`` (+ ``nn.Linear``, + Adam) on the CPU.

Both libraries run in this one process, in float32, with the same number of threads, and
their repeats are interleaved (lstmlens, torch, lstmlens, ...) so that noise from other work
on the machine hits both alike; compare the *ratios*, not absolute numbers across runs.

The repeats of a point are spread over the whole run: every point is timed once per *round*,
and the rounds run one after another (``--repeats`` of them, every other one backwards), so
a disturbance from other work on the machine spoils the repeats it overlaps, not all of a
point's, and the median drops them. (In one-point-at-a-time runs single points came out
2-15x slower than in any other run of the same code: all their repeats fell into one
disturbance.)

Modes (throughput in sequences per second; the median of the repeats, and also the best
repeat):

* ``training``: one full step on a batch: forward, BPTT, Adam (torch: forward, MSE,
  ``backward()``, ``Adam.step()``);
* ``inference``: forward only on a batch;
* ``streaming``: one new observation for a single series with the state kept between calls
  (lstmlens: ``Streamer.push``; torch: ``lstm(x_t, (h, c))``), in steps per second.

Also reported: two peaks on the same threads. The float32 *GEMM peak* (NumPy matmul of
large square matrices, measured in a subprocess so that OpenBLAS's spinning threads never
share the cores with the libraries measured here) is the reference the targets name. The
*FMA peak* (independent chains of vector FMAs in registers, compiled by Numba for this CPU)
is the arithmetic the cores can do at all; a BLAS can fall well short of it (on AMD Zen 5,
OpenBLAS and MKL run AVX2 kernels at half of it), so lstmlens can exceed the GEMM peak but
never the FMA peak. For each training/inference point: the achieved GFLOP/s (best repeat)
as % of both, and the *ceiling*: the highest lstmlens/torch ratio the arithmetic allows at
that point (FMA peak over torch's GFLOP/s), which shows where a target ratio is out of
reach; and the first-call compile time of the kernels with a cold and a warm Numba cache,
each measured in a fresh subprocess.

Run ``python benchmarks/engine.py`` (about 7 minutes) or ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numba
import numpy as np

from lstmlens.cpu import has_avx512, wide_vectors
from lstmlens.network import LSTMNetwork
from lstmlens.optim import Adam
from lstmlens.tiles import stack_like

FEATURES = 8
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "engine.json"
MODES = ("training", "inference", "streaming")
TARGETS = {
    "ratio_everywhere": 1.0,
    "ratio_small": 5.0,  # hidden <= 64 and batch <= 32, training and inference
    "streaming_ratio": 50.0,  # hidden <= 64
    "large_pct_of_peak": 70.0,  # the largest shapes of the grid: hidden 256, batch 256
}

try:  # torch is optional: without it only lstmlens is measured
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None  # type: ignore[assignment]


# ---------------------------------------------------------------------------- timing
def _throughput(call: Callable[[], object], items: int, seconds: float) -> Callable[[], float]:
    """Warm ``call`` up, then return a function that runs it for about ``seconds`` and gives
    items per second.

    Three untimed calls absorb one-off costs (compiling or loading compiled code from the
    cache, oneDNN primitive creation, thread-pool start-up); then calls are timed one by one
    for ``seconds`` and the median sets how many calls a repeat makes. Averaging the first
    calls in instead, a point whose first call loaded its kernel (0.1-0.5 s) got one call per
    repeat: each sample was then a single cold call, up to 13x slower than a warm one.
    """
    for _ in range(3):
        call()
    durations: list[float] = []
    start = time.perf_counter()
    while len(durations) < 3 or time.perf_counter() - start < seconds:
        begin = time.perf_counter()
        call()
        durations.append(time.perf_counter() - begin)
    loops = max(1, int(seconds / max(statistics.median(durations), 1e-7)))

    def repeat() -> float:
        begin = time.perf_counter()
        for _ in range(loops):
            call()
        return loops * items / (time.perf_counter() - begin)

    return repeat


# ---------------------------------------------------------------------------- workloads
def _lstmlens_calls(mode: str, hidden: int, batch: int, steps: int) -> Callable[[], object]:
    rng = np.random.default_rng(0)
    network = LSTMNetwork.initialize(FEATURES, hidden, dtype=np.float32, random_state=0)
    if mode == "streaming":
        streamer = network.stream(batch=1)
        value = rng.standard_normal(FEATURES).astype(np.float32)
        return lambda: streamer.push(value)
    x = rng.standard_normal((batch, steps, FEATURES)).astype(np.float32)
    if mode == "inference":
        return lambda: network.forward(x)
    target = rng.standard_normal((batch, 1)).astype(np.float32)
    optimizer = Adam(network, lr=1e-3)
    scale = np.float32(2.0 / target.size)

    def train() -> None:
        result = network.forward(x, keep_for_backward=True)
        grads = network.backward(result, (result.output - target) * scale)  # d MSE / d output
        optimizer.step(grads)

    return train


def _torch_calls(mode: str, hidden: int, batch: int, steps: int) -> Callable[[], object]:
    assert torch is not None
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(FEATURES, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 1)
    if mode == "streaming":
        x_t = torch.randn(1, 1, FEATURES)
        state = [(torch.zeros(1, 1, hidden), torch.zeros(1, 1, hidden))]

        def push() -> None:
            with torch.inference_mode():
                _, state[0] = lstm(x_t, state[0])

        return push
    x = torch.randn(batch, steps, FEATURES)
    if mode == "inference":
        def infer() -> object:
            with torch.inference_mode():
                return head(lstm(x)[0][:, -1])

        return infer
    target = torch.randn(batch, 1)
    optimizer = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)

    def train() -> None:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(head(lstm(x)[0][:, -1]), target)
        loss.backward()
        optimizer.step()

    return train


def _flops(mode: str, hidden: int, batch: int, steps: int) -> float:
    """Floating-point operations of one call: 2 per multiply-add of the LSTM matrix products."""
    forward = 2.0 * batch * steps * 4 * hidden * (FEATURES + hidden)
    return 3.0 * forward if mode == "training" else forward  # backward: dW and dx/dh GEMMs


def _gemm_peak_here(size: int, seconds: float) -> float:
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    out = np.empty_like(a)
    np.matmul(a, a, out=out)
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or best == 0.0:
        start = time.perf_counter()
        np.matmul(a, a, out=out)
        best = max(best, 2.0 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def gemm_peak(size: int, seconds: float, threads: int) -> float:
    """float32 GFLOP/s of NumPy matmul on ``size`` x ``size`` matrices (best of the repeats),
    measured in a fresh interpreter with ``threads`` BLAS threads."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
            f"import engine; print(engine._gemm_peak_here({size}, {seconds}))")
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


#: float32 sums the FMA-peak loop keeps in registers: 16 vector registers of them with
#: AVX-512, 12 with AVX2 (of 32 and 16): enough independent chains to keep both FMA ports
#: busy through the FMA latency, few enough not to spill.
FMA_LANES = 256 if has_avx512() else 96


@numba.njit(fastmath={"contract"})
def _fma_chains(steps: int, seed: np.ndarray) -> float:  # pragma: no cover - compiled
    wide_vectors()
    sums = numba.carray(stack_like(FMA_LANES, seed), (FMA_LANES,))
    for lane in range(FMA_LANES):
        sums[lane] = seed[lane]
    scale, shift = np.float32(0.9999), np.float32(1e-4)
    for _ in range(steps):
        for lane in range(FMA_LANES):  # one vector FMA per register of sums
            sums[lane] = sums[lane] * scale + shift
    total = np.float32(0.0)
    for lane in range(FMA_LANES):  # used, so that the loop is not optimised away
        total += sums[lane]
    return total


@numba.njit(fastmath={"contract"}, parallel=True)
def _fma_on_threads(threads: int, steps: int, seed: np.ndarray,
                    out: np.ndarray) -> None:  # pragma: no cover - compiled
    wide_vectors()
    for thread in numba.prange(threads):
        out[thread] = _fma_chains(steps, seed)


def fma_peak(threads: int, seconds: float) -> float:
    """float32 GFLOP/s of independent vector FMA chains on ``threads`` of Numba's threads
    (best of the repeats): the arithmetic ceiling of the cores."""
    seed = np.random.default_rng(0).random(FMA_LANES).astype(np.float32)
    out = np.zeros(threads, np.float32)
    _fma_on_threads(threads, 10, seed, out)  # compile
    steps, best = 1 << 16, 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or best == 0.0:
        start = time.perf_counter()
        _fma_on_threads(threads, steps, seed, out)
        elapsed = time.perf_counter() - start
        best = max(best, 2.0 * FMA_LANES * steps * threads / elapsed / 1e9)
        if elapsed < 0.05:  # too short to time well: longer calls from now on
            steps *= 4
    return best


# ---------------------------------------------------------------------------- compile time
_COMPILE_PROBE = """
import time
start = time.perf_counter()
import numpy as np
from lstmlens.network import LSTMNetwork
from lstmlens.optim import Adam
net = LSTMNetwork.initialize(8, 16, dtype=np.float32, random_state=0)
x = np.ones((4, 6, 8), np.float32)
result = net.forward(x, keep_for_backward=True)
Adam(net).step(net.backward(result, np.ones((4, 1), np.float32)))
net.stream().push(np.ones(8, np.float32))
print(time.perf_counter() - start)
"""


def compile_times() -> dict[str, float]:
    """Seconds to import and make the first float32 training step + stream push, in a
    fresh interpreter, with an empty Numba cache (cold) and then with that cache (warm)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        timings = {}
        for name in ("cold_cache_s", "warm_cache_s"):
            done = subprocess.run([sys.executable, "-c", _COMPILE_PROBE], env=env, check=True,
                                  capture_output=True, text=True)
            timings[name] = float(done.stdout.strip().splitlines()[-1])
    return timings


# ---------------------------------------------------------------------------- driver
def _grid(args: argparse.Namespace) -> list[tuple[str, int, int, int]]:
    points: list[tuple[str, int, int, int]] = []
    for mode in args.modes:
        if mode == "streaming":
            points += [(mode, hidden, 1, 1) for hidden in args.hidden]
            continue
        points += [(mode, hidden, batch, steps) for hidden in args.hidden
                   for batch in args.batch for steps in args.time]
    return points


def prepare(point: tuple[str, int, int, int],
            args: argparse.Namespace) -> dict[str, Callable[[], float]]:
    """The timed runs of one grid point, one per library, warmed up and calibrated."""
    mode, _, batch, _ = point
    items = 1 if mode == "streaming" else batch
    per_repeat = args.budget / (2 * args.repeats)
    runs = {"lstmlens": _throughput(_lstmlens_calls(*point), items, per_repeat)}
    if torch is not None:
        runs["torch"] = _throughput(_torch_calls(*point), items, per_repeat)
    return runs


def in_rounds(prepared: list[dict[str, Callable[[], float]]],
              rounds: int) -> list[dict[str, list[float]]]:
    """Throughput samples of every point: each round times every point once. Every other
    round goes through the grid backwards and times the libraries the other way round, so
    that no point always follows the same work."""
    samples: list[dict[str, list[float]]] = [{name: [] for name in runs} for runs in prepared]
    start = time.perf_counter()
    for round_ in range(rounds):
        order = list(zip(prepared, samples, strict=True))
        for runs, point_samples in order if round_ % 2 == 0 else reversed(order):
            names = list(runs) if round_ % 2 == 0 else list(reversed(runs))
            for name in names:
                point_samples[name].append(runs[name]())
        print(f"round {round_ + 1}/{rounds} done ({time.perf_counter() - start:.0f} s)",
              flush=True)
    return samples


def summarise(point: tuple[str, int, int, int], samples: dict[str, list[float]],
              peak: float, fma: float) -> dict[str, Any]:
    """One row of the results table from a point's samples."""
    mode, hidden, batch, steps = point
    medians = {name: statistics.median(values) for name, values in samples.items()}
    best = {name: max(values) for name, values in samples.items()}
    row: dict[str, Any] = {"mode": mode, "hidden": hidden, "batch": batch, "time": steps,
                           "lstmlens_per_s": medians["lstmlens"],
                           "torch_per_s": medians.get("torch"), "ratio": None,
                           "lstmlens_best_per_s": best["lstmlens"],
                           "torch_best_per_s": best.get("torch"), "ratio_best": None,
                           "gflops": None, "pct_of_peak": None, "pct_of_fma_peak": None,
                           "ceiling": None}
    if "torch" in medians:
        row["ratio"] = medians["lstmlens"] / medians["torch"]
        row["ratio_best"] = best["lstmlens"] / best["torch"]
    if mode != "streaming":
        row["gflops"] = _flops(*point) * best["lstmlens"] / batch / 1e9
        row["pct_of_peak"] = 100.0 * row["gflops"] / peak
        row["pct_of_fma_peak"] = 100.0 * row["gflops"] / fma
        if "torch" in medians:  # the ratio lstmlens would reach running at the FMA peak
            row["ceiling"] = fma / (_flops(*point) * medians["torch"] / batch / 1e9)
    return row


def _targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def ok(values: list[bool]) -> bool | None:
        return all(values) if values else None

    batch_modes = [r for r in rows if r["mode"] != "streaming" and r["ratio"] is not None]
    small = [r for r in batch_modes if r["hidden"] <= 64 and r["batch"] <= 32]
    stream = [r for r in rows if r["mode"] == "streaming" and r["ratio"] is not None
              and r["hidden"] <= 64]
    largest = max((r["hidden"], r["batch"]) for r in rows)
    large = [r for r in rows if r["mode"] != "streaming"
             and (r["hidden"], r["batch"]) == largest]
    return {
        "ratio_at_least_1_everywhere": ok([r["ratio"] >= TARGETS["ratio_everywhere"]
                                           for r in batch_modes]),
        "ratio_at_least_5_small": ok([r["ratio"] >= TARGETS["ratio_small"] for r in small]),
        "streaming_at_least_50x": ok([r["ratio"] >= TARGETS["streaming_ratio"] for r in stream]),
        "large_at_least_70pct_peak": ok([r["pct_of_peak"] >= TARGETS["large_pct_of_peak"]
                                         for r in large]),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| mode | H | B | T | lstmlens /s | torch /s | ratio | best ratio | GFLOP/s "
             "| % GEMM peak | % FMA peak | ceiling |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        torch_rate = f"{r['torch_per_s']:,.0f}" if r["torch_per_s"] else "-"
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        best = f"{r['ratio_best']:.2f}x" if r["ratio_best"] is not None else "-"
        gflops = f"{r['gflops']:.1f}" if r["gflops"] is not None else "-"
        pct = f"{r['pct_of_peak']:.0f}%" if r["pct_of_peak"] is not None else "-"
        fma = f"{r['pct_of_fma_peak']:.0f}%" if r["pct_of_fma_peak"] is not None else "-"
        ceiling = f"{r['ceiling']:.1f}x" if r["ceiling"] is not None else "-"
        lines.append(f"| {r['mode']} | {r['hidden']} | {r['batch']} | {r['time']} | "
                     f"{r['lstmlens_per_s']:,.0f} | {torch_rate} | {ratio} | {best} | "
                     f"{gflops} | {pct} | {fma} | {ceiling} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (see ``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny grid and budget, no compile timing (smoke run)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--hidden", nargs="+", type=int, help="default 8 32 64 128 256")
    parser.add_argument("--batch", nargs="+", type=int, help="default 1 32 256")
    parser.add_argument("--time", nargs="+", type=int, help="default 24 96")
    parser.add_argument("--threads", type=int, default=2, help="threads for both libraries")
    parser.add_argument("--repeats", type=int,
                        help="rounds over the grid: repeats per library and point (default 9)")
    parser.add_argument("--budget", type=float,
                        help="seconds per grid point, both libraries together (default 4)")
    parser.add_argument("--compile-timing", action=argparse.BooleanOptionalAction, default=None,
                        help="measure cold/warm compile time in subprocesses (default: "
                             "on unless --quick)")
    parser.add_argument("--output", type=Path,
                        help=f"JSON results file (default {DEFAULT_OUTPUT.name} in "
                             "benchmarks/results; a --quick run writes one only when asked, "
                             "so that a smoke run never replaces the recorded results)")
    args = parser.parse_args(argv)
    # --quick changes the defaults only; options given explicitly still win.
    defaults = ([8, 32], [1, 8], [12], 3, 0.2) if args.quick else (
        [8, 32, 64, 128, 256], [1, 32, 256], [24, 96], 9, 4.0)
    for name, value in zip(("hidden", "batch", "time", "repeats", "budget"), defaults,
                           strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.compile_timing is None:
        args.compile_timing = not args.quick
    if args.output is None and not args.quick:
        args.output = DEFAULT_OUTPUT
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table and write the JSON file; returns the results."""
    args = parse_args(argv)
    numba.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    peak = gemm_peak(512 if args.quick else 2048, 0.2 if args.quick else 3.0, args.threads)
    fma = fma_peak(args.threads, 0.2 if args.quick else 3.0)
    print(f"float32 peaks on {args.threads} threads: GEMM (NumPy) {peak:.1f} GFLOP/s, "
          f"FMA chains {fma:.1f} GFLOP/s", flush=True)
    grid = _grid(args)
    prepared = [prepare(point, args) for point in grid]
    samples = in_rounds(prepared, args.repeats)
    rows = [summarise(point, point_samples, peak, fma)
            for point, point_samples in zip(grid, samples, strict=True)]
    for point, row in zip(grid, rows, strict=True):
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-"
        print(f"{point}: lstmlens {row['lstmlens_per_s']:,.0f}/s ratio {ratio}", flush=True)
    compile_s = compile_times() if args.compile_timing else None
    results = {
        "meta": {"numpy": np.__version__, "numba": numba.__version__,
                 "torch": getattr(torch, "__version__", None), "threads": args.threads,
                 "features": FEATURES, "dtype": "float32", "repeats": args.repeats,
                 "budget_s": args.budget, "python": platform.python_version(),
                 "machine": platform.machine(), "cpu": _cpu_name(), "cpu_kind": _cpu_kind(),
                 "cpu_count": os.cpu_count(), "commit": _commit()},
        "gemm_peak_gflops": peak,
        "fma_peak_gflops": fma,
        "compile": compile_s,
        "results": rows,
        "targets": _targets(rows),
    }
    print(_table(rows))
    print("compile time:", compile_s)
    print("targets:", results["targets"])
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    return results


def _cpu_fields() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if not line.strip():
                    break  # the first processor only
                name, _, value = line.partition(":")
                fields[name.strip()] = value.strip()
    except OSError:
        pass
    return fields


def _cpu_name() -> str | None:
    """The CPU's model name as Linux reports it (the results differ between CPU kinds)."""
    return _cpu_fields().get("model name") or platform.processor() or None


def _cpu_kind() -> dict[str, Any]:
    """What tells CPUs of one model name apart: a VM's "AMD EPYC" was a Zen 1 (family 23,
    model 1, AVX2 on 128-bit units) in one run and a Zen 4 (family 25, AVX-512) in another."""
    fields = _cpu_fields()
    flags = set(fields.get("flags", "").split())
    return {"family": fields.get("cpu family"), "model": fields.get("model"),
            "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
            "l2_cache": fields.get("cache size")}


def _commit() -> str | None:
    """The git commit measured, when run from a checkout."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


if __name__ == "__main__":
    main()
