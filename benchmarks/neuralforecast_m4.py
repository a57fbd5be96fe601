"""NeuralForecast's ``LSTM`` on M4 Hourly, scored exactly like ``benchmarks/m4_hourly.py``.

Same data, split and scoring as the lstmlens benchmark: the 414 series of
``m4-hourly-train.csv`` read with :func:`lstmlens.data.load_m4_wide`, horizon 48, season 24;
``--split test`` (default) holds out the last 48 values of every series, ``--split
validation`` the 48 before those. sMAPE, MASE and OWA come from :mod:`lstmlens.metrics`, the
seasonal-naive and Naive2 references from :mod:`lstmlens.baselines`.

NeuralForecast is an optional benchmark dependency (``pip install neuralforecast`` while
keeping the installed CPU torch). From the repository root, on 2 cores::

    python benchmarks/neuralforecast_m4.py                       # the reported run
    python benchmarks/neuralforecast_m4.py --limit 20 --max-steps 10 --output /tmp/nf.json

The configuration is NeuralForecast's own defaults for ``LSTM`` (2 encoder layers of 128,
MLP decoder, robust scaler, MAE loss, Adam 1e-3) with a one-week input window and the number
of steps cut to fit a few minutes. Results go to ``benchmarks/results/neuralforecast_m4.json``;
``benchmarks/compare_m4.py`` sets them beside lstmlens's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmlens.baselines import Naive2, SeasonalNaive, forecast_panel
from lstmlens.data import Panel, load_m4_wide
from lstmlens.metrics import mase, owa, smape

HORIZON = 48
SEASON = 24
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "m4-hourly-train.csv"
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "neuralforecast_m4.json"
_LOGGERS = (
    "pytorch_lightning",
    "pytorch_lightning.utilities.rank_zero",
    "lightning",
    "lightning.pytorch",
    "lightning.pytorch.utilities.rank_zero",
    "lightning_fabric",
    "lightning_fabric.utilities.seed",
)


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of fit + predict (CPU time is steadier on a busy machine)."""

    wall: float
    cpu: float


def make_split(path: Path, split: str, limit: int | None = None) -> tuple[Panel, Panel]:
    """``(history, holdout)`` of the M4 Hourly series, as in ``benchmarks/m4_hourly.py``."""
    panel = load_m4_wide(path, freq="h")
    if limit is not None:
        panel = panel.subset(panel.ids[:limit])
    if split == "validation":
        panel = panel.drop_last(HORIZON)
    return panel.split_last(HORIZON)


def to_long(history: Panel) -> pd.DataFrame:
    """The histories as NeuralForecast's long frame, integer time stamps 0, 1, ..."""
    frame = history.to_frame()
    frame["ds"] = frame["ds"].astype(np.int64)
    return frame


def quiet_libraries() -> None:
    """Silence Lightning's banners and warnings; they are noise in a benchmark log."""
    warnings.filterwarnings("ignore")
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def build_model(args: argparse.Namespace) -> Any:
    """NeuralForecast's LSTM with its defaults except the window and the number of steps."""
    from neuralforecast.models import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        LSTM,
    )

    return LSTM(
        h=HORIZON,
        input_size=args.input_size,
        encoder_n_layers=args.layers,
        encoder_hidden_size=args.hidden_size,
        decoder_hidden_size=args.hidden_size,
        scaler_type=args.scaler,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        random_seed=args.seed,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )


def run_neuralforecast(
    history: Panel, args: argparse.Namespace
) -> tuple[np.ndarray, Timing]:
    """Fit on ``history`` and forecast ``HORIZON`` steps: ``(forecasts (n, h), timing)``."""
    import torch
    from neuralforecast import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        NeuralForecast,
    )

    torch.set_num_threads(args.threads)
    long = to_long(history)
    forecaster = NeuralForecast(models=[build_model(args)], freq=1)
    start, cpu_start = time.perf_counter(), time.process_time()
    forecaster.fit(df=long)
    predictions = forecaster.predict()
    timing = Timing(time.perf_counter() - start, time.process_time() - cpu_start)
    if "unique_id" not in predictions.columns:
        predictions = predictions.reset_index()
    ordered = predictions.sort_values(["unique_id", "ds"]).set_index("unique_id")
    forecasts = np.vstack([ordered.loc[[sid], "LSTM"].to_numpy(np.float64) for sid in history.ids])
    return forecasts, timing


def score_all(
    forecasts: dict[str, np.ndarray], actual: np.ndarray, insample: list[np.ndarray]
) -> dict[str, dict[str, float]]:
    """Mean sMAPE and MASE over series, and OWA relative to Naive2, for every model."""
    smape_naive2 = smape(actual, forecasts["naive2"])
    mase_naive2 = mase(actual, forecasts["naive2"], insample, SEASON)
    scores = {}
    for name, forecast in forecasts.items():
        smapes = smape(actual, forecast)
        mases = mase(actual, forecast, insample, SEASON)
        scores[name] = {
            "smape": float(np.mean(smapes)),
            "mase": float(np.mean(mases)),
            "owa": owa(smapes, mases, smape_naive2, mase_naive2),
        }
    return scores


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the reported configuration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("test", "validation"), default="test",
                        help="test: last 48 values held out; validation: the 48 before them")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="M4 Hourly train CSV")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="result JSON")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N series")
    parser.add_argument("--input-size", type=int, default=168, help="input window (one week)")
    parser.add_argument("--hidden-size", type=int, default=128, help="encoder/decoder width")
    parser.add_argument("--layers", type=int, default=2, help="encoder LSTM layers")
    parser.add_argument("--max-steps", type=int, default=250,
                        help="training steps (a few minutes on 2 idle cores)")
    parser.add_argument("--batch-size", type=int, default=32, help="series per batch")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam step size")
    parser.add_argument("--scaler", default="robust", help="NeuralForecast scaler_type")
    parser.add_argument("--seed", type=int, default=1, help="random_seed")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Fit, forecast and score; return the result record."""
    import neuralforecast
    import torch

    history, holdout = make_split(args.data, args.split, args.limit)
    insample = list(history.values)
    rss_before = peak_rss_mb()
    lstm, timing = run_neuralforecast(history, args)
    forecasts = {
        "neuralforecast_lstm": lstm,
        "seasonal_naive": forecast_panel(SeasonalNaive(SEASON), insample, HORIZON),
        "naive2": forecast_panel(Naive2(SEASON), insample, HORIZON),
    }
    scores = score_all(forecasts, np.vstack(holdout.values), insample)
    config = {k: v for k, v in vars(args).items() if k not in {"data", "output", "split"}}
    return {
        "library": f"neuralforecast {neuralforecast.__version__} (torch {torch.__version__})",
        "model": "LSTM",
        "split": args.split,
        "n_series": len(history),
        "horizon": HORIZON,
        "command": "python benchmarks/neuralforecast_m4.py " + " ".join(sys.argv[1:]),
        "config": config,
        "scores": scores,
        **scores["neuralforecast_lstm"],
        "fit_predict_seconds": round(timing.wall, 1),
        "fit_predict_cpu_seconds": round(timing.cpu, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_mb_before_fit": round(rss_before, 1),
        "threads": args.threads,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }


def report(result: dict[str, Any]) -> None:
    """Print the scores and the cost."""
    print(f"M4 Hourly, {result['split']} split, {result['n_series']} series, h={HORIZON}")
    print(f"{'model':<22}{'sMAPE':>8}{'MASE':>8}{'OWA':>8}")
    for name, score in result["scores"].items():
        print(f"{name:<22}{score['smape']:>8.3f}{score['mase']:>8.3f}{score['owa']:>8.3f}")
    print(f"NeuralForecast fit+predict: {result['fit_predict_seconds']:.1f} s wall, "
          f"{result['fit_predict_cpu_seconds']:.1f} s CPU, peak memory "
          f"{result['peak_rss_mb']:.0f} MiB, {result['threads']} thread(s)")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print a summary and write the JSON result."""
    args = parse_args(argv)
    quiet_libraries()
    result = run(args)
    report(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
