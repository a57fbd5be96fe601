"""M4 Hourly accuracy and speed of lstmlens against seasonal naive and Naive2.

Splits (every series of ``m4-hourly-train.csv``, 414 series, horizon 48):

- ``--split validation`` (for choosing settings): hold out the last 96 values, fit on the
  rest, score the first 48 of the held-out values;
- ``--split test`` (for reporting, with settings chosen on validation): hold out the last
  48 values, fit on the rest, score them.

Prints sMAPE, MASE (seasonal-naive scale, period 24) and OWA (relative to Naive2 on the same
split) for lstmlens, seasonal naive and Naive2 — both baselines computed by
:mod:`lstmlens.baselines` — with lstmlens's fit+predict wall time and the process's peak
memory (max RSS), and stores them under the split's name in
``benchmarks/results/m4_hourly.json``::

    python benchmarks/m4_hourly.py --split validation      # choosing settings
    python benchmarks/m4_hourly.py --split test            # the reported numbers

Without options the forecaster runs with its own defaults, which for hourly data are the
settings chosen on the validation split (see :mod:`lstmlens.presets`): 168 values as 7 daily
steps of 24, log values over each window's level, a correction of seasonal naive, one layer
of 128 units, MAE, Adam 4e-3 with cosine decay, 20000 steps, the median of 4 networks
trained two at a time. ``--set NAME=VALUE`` overrides any parameter for experiments.

Threads: ``--threads`` sets the BLAS and Numba thread counts before they are imported; on a
shared 2-core machine one thread per process is the fastest and most predictable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path("/work/shared/data/m4-hourly-train.csv")
DEFAULT_OUTPUT = HERE / "results" / "m4_hourly.json"
HORIZON = 48
SEASON = 24
LEVELS = (80, 95)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("validation", "test"), default="validation",
                        help="validation: score the 48 values before the last 48 (tuning); "
                        "test: score the last 48 (reporting). Default: validation.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"M4 Hourly training file (default: {DEFAULT_DATA}).")
    parser.add_argument("--seeds", type=int, default=None,
                        help="ensemble members (median of networks from different seeds); "
                        "default: the forecaster's default.")
    parser.add_argument("--random-state", type=int, default=0, help="seed (default: 0).")
    parser.add_argument("--time-budget", type=float, default=None,
                        help="training seconds for the whole fit (default: step-limited).")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="optimiser steps per member (default: the forecaster's).")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/Numba threads (default: 1).")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="any other LSTMForecaster parameter, e.g. --set hidden_size=96 "
                        "(values parsed as JSON when possible). Repeatable.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"JSON results file (default: {DEFAULT_OUTPUT}).")
    parser.add_argument("--no-save", action="store_true", help="print only, write no JSON.")
    parser.add_argument("--progress", action="store_true", help="show the training bar.")
    return parser.parse_args(argv)


def limit_threads(threads: int) -> None:
    """Set thread counts before NumPy/Numba start their pools."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        os.environ[name] = str(threads)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["hidden_size=96", "loss=smape"]`` -> ``{"hidden_size": 96, "loss": "smape"}``."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set expects NAME=VALUE, got {pair!r}")
        try:
            overrides[name] = json.loads(text)
        except json.JSONDecodeError:
            overrides[name] = text
    return overrides


def peak_memory_mb(workers: int) -> float:
    """Peak resident memory, MiB: this process plus ``workers`` times the largest worker.

    ``ru_maxrss`` is KiB on Linux. Worker processes (``n_jobs``) ran at the same time, so
    their peaks add up; the largest child's peak stands in for each of them.
    """
    unit = 1024.0 if sys.platform != "darwin" else 2.0**20
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / unit
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / unit
    return own + (workers * child if workers > 1 else 0.0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Fit, forecast and score; return the result record."""
    import numpy as np

    from lstmlens import baselines, data, metrics
    from lstmlens.forecaster import LSTMForecaster

    panel = data.load_m4_wide(args.data, freq="h")
    if args.split == "validation":
        panel = panel.drop_last(HORIZON)
    history, holdout = panel.split_last(HORIZON)

    params: dict[str, Any] = {"horizon": HORIZON, "random_state": args.random_state,
                              "progress": args.progress}
    if args.seeds is not None:
        params["ensemble_size"] = args.seeds
    if args.time_budget is not None:
        params["time_budget"] = args.time_budget
        params["max_steps"] = None if args.max_steps is None else args.max_steps
    elif args.max_steps is not None:
        params["max_steps"] = args.max_steps
    params.update(parse_overrides(args.set))
    model = LSTMForecaster(**params)

    started = time.perf_counter()
    model.fit(history)
    levels = LEVELS if model.intervals_ is not None else None
    frame = model.predict(levels=levels)
    seconds = time.perf_counter() - started
    lstm = frame["LSTM"].to_numpy().reshape(len(history), HORIZON)

    actual = np.vstack(holdout.values)
    coverage = {
        str(level): float(np.mean(
            (frame[f"LSTM-lo-{level}"].to_numpy() <= actual.ravel())
            & (actual.ravel() <= frame[f"LSTM-hi-{level}"].to_numpy())
        ))
        for level in (levels or ())
    }
    insample = list(history.values)
    forecasts = {
        "lstmlens": lstm,
        "seasonal_naive": baselines.forecast_panel(baselines.SeasonalNaive(SEASON), insample,
                                                   HORIZON),
        "naive2": baselines.forecast_panel(baselines.Naive2(SEASON), insample, HORIZON),
    }
    smape_naive2 = metrics.smape(actual, forecasts["naive2"])
    mase_naive2 = metrics.mase(actual, forecasts["naive2"], insample, SEASON)
    scores = {}
    for name, forecast in forecasts.items():
        smape = metrics.smape(actual, forecast)
        mase = metrics.mase(actual, forecast, insample, SEASON)
        scores[name] = {
            "smape": float(np.mean(smape)),
            "mase": float(np.mean(mase)),
            "owa": metrics.owa(smape, mase, smape_naive2, mase_naive2),
        }
    return {
        "split": args.split,
        "n_series": len(history),
        "horizon": HORIZON,
        "command": "python benchmarks/m4_hourly.py " + " ".join(sys.argv[1:]),
        "params": model.get_params(),
        "resolved": {
            "input_size": model.input_size_, "step_length": model.step_length_,
            "season": model.season_, "log": model.log_,
            "feature_names": list(model.feature_names_),
        },
        "training": model.training_,
        "scores": scores,
        "interval_coverage": coverage,
        "smape": scores["lstmlens"]["smape"],
        "mase": scores["lstmlens"]["mase"],
        "owa": scores["lstmlens"]["owa"],
        "fit_predict_seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_memory_mb(_workers(model)), 1),
        "threads": args.threads,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }


def _workers(model: Any) -> int:
    jobs = model.n_jobs if model.n_jobs > 0 else os.cpu_count() or 1
    return int(min(jobs, len(model.networks_)))


def report(result: dict[str, Any]) -> None:
    """Print the table."""
    print(f"M4 Hourly, {result['split']} split, {result['n_series']} series, h={HORIZON}")
    print(f"{'model':<16}{'sMAPE':>8}{'MASE':>8}{'OWA':>8}")
    for name, score in result["scores"].items():
        print(f"{name:<16}{score['smape']:>8.3f}{score['mase']:>8.3f}{score['owa']:>8.3f}")
    covered = ", ".join(f"{lv}%: {c:.1%}" for lv, c in result["interval_coverage"].items())
    print(f"conformal interval coverage {covered}")
    print(f"lstmlens fit+predict: {result['fit_predict_seconds']:.1f} s, "
          f"peak memory {result['peak_rss_mb']:.0f} MiB, {result['threads']} thread(s)")


def save(result: dict[str, Any], path: Path) -> None:
    """Store ``result`` under its split's name, keeping the other split's record."""
    stored: dict[str, Any] = {}
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            stored = {}
    stored[result["split"]] = result
    # Top-level figures are those of the test split when present (the reported numbers).
    headline = stored.get("test", result)
    for key in ("smape", "mase", "owa", "fit_predict_seconds", "peak_rss_mb"):
        stored[key] = headline[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    limit_threads(args.threads)
    result = run(args)
    report(result)
    if not args.no_save:
        save(result, args.output)
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
