"""NeuralForecast's ``LSTM`` on the M4 Hourly validation split, for comparison with lstmlens.

The split is the one of ``benchmarks/m4_hourly.py``: the training part of M4 Hourly
(``m4-hourly-train.csv``, 414 series), the last 48 values of every series held out, horizon
48, season 24. sMAPE, MASE and OWA come from :mod:`lstmlens.metrics`, the Naive2 reference
from :mod:`lstmlens.baselines`, so both benchmarks score forecasts the same way.

NeuralForecast is an optional benchmark dependency (``pip install neuralforecast``; keep the
installed CPU torch). Run from the repository root, it takes a few minutes on 2 cores::

    python benchmarks/neuralforecast_m4.py                 # full run, writes the JSON
    python benchmarks/neuralforecast_m4.py --limit 20 --max-steps 20 --output /tmp/nf.json

The result goes to ``benchmarks/results/neuralforecast_m4.json``; ``benchmarks/compare_m4.py``
puts it beside the lstmlens result.
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
from lstmlens.metrics import mase, owa, smape

HORIZON = 48
SEASON = 24
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "m4-hourly-train.csv"
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "neuralforecast_m4.json"


@dataclass(frozen=True)
class Split:
    """Train histories and held-out actuals of every series, in file order."""

    ids: list[str]
    train: list[np.ndarray]
    test: np.ndarray  # (n_series, HORIZON)


def read_m4_wide(path: Path) -> tuple[list[str], list[np.ndarray]]:
    """Read M4's wide layout: first column the id, then values padded with empty cells."""
    frame = pd.read_csv(path)
    ids = frame.iloc[:, 0].astype(str).tolist()
    values = frame.iloc[:, 1:].to_numpy(dtype=np.float64)
    series = [row[~np.isnan(row)] for row in values]
    return ids, series


def make_split(path: Path, limit: int | None = None) -> Split:
    """Hold out the last ``HORIZON`` values of each series (optionally the first ``limit``)."""
    ids, series = read_m4_wide(path)
    if limit is not None:
        ids, series = ids[:limit], series[:limit]
    train = [y[:-HORIZON] for y in series]
    test = np.vstack([y[-HORIZON:] for y in series])
    return Split(ids=ids, train=train, test=test)


def to_long(split: Split) -> pd.DataFrame:
    """Training histories as NeuralForecast's long frame, integer time stamps 0, 1, ..."""
    frames = [
        pd.DataFrame({"unique_id": uid, "ds": np.arange(y.size), "y": y})
        for uid, y in zip(split.ids, split.train, strict=True)
    ]
    return pd.concat(frames, ignore_index=True)


def quiet_libraries() -> None:
    """Silence Lightning's banners and warnings; they are noise in a benchmark log."""
    warnings.filterwarnings("ignore")
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("PYTORCH_LIGHTNING_SEED_WORKERS", "0")


def run_neuralforecast(
    long: pd.DataFrame, split: Split, args: argparse.Namespace
) -> tuple[np.ndarray, float]:
    """Fit NeuralForecast's LSTM and forecast ``HORIZON`` steps; return (forecasts, seconds)."""
    import torch
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    torch.set_num_threads(args.threads)
    model = LSTM(
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
    forecaster = NeuralForecast(models=[model], freq=1)
    start = time.perf_counter()
    forecaster.fit(df=long)
    fitted = time.perf_counter()
    predictions = forecaster.predict()
    seconds = time.perf_counter() - start
    print(f"fit {fitted - start:.1f} s, predict {seconds - (fitted - start):.1f} s")
    predictions = predictions.reset_index() if "unique_id" not in predictions else predictions
    ordered = predictions.sort_values(["unique_id", "ds"]).set_index("unique_id")
    forecasts = np.vstack([ordered.loc[uid, "LSTM"].to_numpy(np.float64) for uid in split.ids])
    return forecasts, seconds


def score(forecasts: np.ndarray, naive2: np.ndarray, split: Split) -> dict[str, float]:
    """Mean sMAPE and MASE over series, and OWA relative to Naive2."""
    smapes = smape(split.test, forecasts)
    mases = mase(split.test, forecasts, split.train, SEASON)
    return {
        "smape": float(np.mean(smapes)),
        "mase": float(np.mean(mases)),
        "owa": owa(
            smapes,
            mases,
            smape(split.test, naive2),
            mase(split.test, naive2, split.train, SEASON),
        ),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults: the configuration reported in the results)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="M4 Hourly train CSV")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="result JSON")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N series")
    parser.add_argument("--input-size", type=int, default=168, help="input window (one week)")
    parser.add_argument("--hidden-size", type=int, default=128, help="encoder/decoder width")
    parser.add_argument("--layers", type=int, default=2, help="encoder LSTM layers")
    parser.add_argument("--max-steps", type=int, default=1000, help="training steps")
    parser.add_argument("--batch-size", type=int, default=32, help="series per batch")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam step size")
    parser.add_argument("--scaler", default="robust", help="NeuralForecast scaler_type")
    parser.add_argument("--seed", type=int, default=1, help="random_seed")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print a summary and write the JSON result."""
    args = parse_args(argv)
    quiet_libraries()
    import neuralforecast
    import torch

    split = make_split(args.data, args.limit)
    long = to_long(split)
    naive2 = forecast_panel(Naive2(SEASON), split.train, HORIZON)
    snaive = forecast_panel(SeasonalNaive(SEASON), split.train, HORIZON)
    rss_before = peak_rss_mb()
    forecasts, seconds = run_neuralforecast(long, split, args)
    result: dict[str, Any] = {
        "library": "neuralforecast",
        "model": "LSTM",
        "library_version": neuralforecast.__version__,
        "torch_version": torch.__version__,
        "split": {"data": args.data.name, "series": len(split.ids), "horizon": HORIZON,
                  "season": SEASON, "holdout": "last 48 values of each train series"},
        "config": {key: value for key, value in vars(args).items()
                   if key not in {"data", "output", "limit"}},
        "accuracy": score(forecasts, naive2, split),
        "baselines": {
            "SeasonalNaive": score(snaive, naive2, split),
            "Naive2": score(naive2, naive2, split),
        },
        "fit_predict_seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_rss_mb_before_fit": round(rss_before, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    accuracy = result["accuracy"]
    print(
        f"NeuralForecast LSTM on {len(split.ids)} series: sMAPE {accuracy['smape']:.3f}  "
        f"MASE {accuracy['mase']:.3f}  OWA {accuracy['owa']:.3f}  "
        f"(SeasonalNaive OWA {result['baselines']['SeasonalNaive']['owa']:.3f}); "
        f"fit+predict {seconds:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MiB; "
        f"wrote {args.output}"
    )
    return result


if __name__ == "__main__":
    main()
