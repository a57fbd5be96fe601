"""Side by side: lstmlens and NeuralForecast's LSTM on the M4 Hourly validation split.

Reads ``benchmarks/results/m4_hourly.json`` (written by ``benchmarks/m4_hourly.py``) and
``benchmarks/results/neuralforecast_m4.json`` (``benchmarks/neuralforecast_m4.py``) and prints
sMAPE, MASE, OWA, fit+predict time and peak memory, with the ratio lstmlens / NeuralForecast
(below 1 means lstmlens is better or faster)::

    python benchmarks/compare_m4.py [--lstmlens PATH] [--neuralforecast PATH]

The two scripts write slightly different layouts, so each figure is looked up under a few
likely names (a top-level key, or inside ``accuracy``/``metrics``/``lstmlens``/``result``).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

#: Row label -> candidate key names, first match wins.
FIELDS: dict[str, tuple[str, ...]] = {
    "sMAPE": ("smape", "sMAPE", "smape_mean"),
    "MASE": ("mase", "MASE", "mase_mean"),
    "OWA": ("owa", "OWA", "owa_median", "median_owa"),
    "fit+predict s": (
        "fit_predict_seconds", "seconds", "wall_seconds", "wall_time_s", "time_s",
        "fit_seconds", "total_seconds", "elapsed_seconds",
    ),
    "peak MiB": ("peak_rss_mb", "peak_memory_mb", "peak_mb", "max_rss_mb", "peak_rss_mib"),
}
NESTS = ("accuracy", "metrics", "lstmlens", "LSTM", "result", "summary", "timing", "memory")


def find(result: Mapping[str, Any], names: Sequence[str]) -> float | None:
    """The first numeric value stored under one of ``names``, at top level or one level down."""
    scopes: list[Mapping[str, Any]] = [result]
    scopes += [result[n] for n in NESTS if isinstance(result.get(n), Mapping)]
    for scope in scopes:
        for name in names:
            value = scope.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    return None


def ratio(mine: float | None, theirs: float | None) -> str:
    """``mine / theirs`` as text, or ``-`` when either is missing or ``theirs`` is 0."""
    if mine is None or theirs is None or theirs == 0 or not math.isfinite(theirs):
        return "-"
    return f"{mine / theirs:.2f}x"


def number(value: float | None) -> str:
    """A figure with 3 significant decimals, or ``-``."""
    return "-" if value is None else f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"


def table(lstmlens: Mapping[str, Any], neuralforecast: Mapping[str, Any]) -> list[str]:
    """Lines of the comparison table."""
    lines = [f"{'':<16}{'lstmlens':>12}{'NeuralForecast':>16}{'ratio':>10}"]
    for label, names in FIELDS.items():
        mine, theirs = find(lstmlens, names), find(neuralforecast, names)
        lines.append(f"{label:<16}{number(mine):>12}{number(theirs):>16}{ratio(mine, theirs):>10}")
    return lines


def load(path: Path) -> dict[str, Any]:
    """Read one result JSON, with a clear message when the benchmark was not run yet."""
    if not path.is_file():
        raise SystemExit(f"Error: {path} not found; run the benchmark that writes it first.")
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise SystemExit(f"Error: {path} does not hold a JSON object.")
    return data


def main(argv: list[str] | None = None) -> None:
    """Print the side-by-side table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lstmlens", type=Path, default=RESULTS / "m4_hourly.json")
    parser.add_argument("--neuralforecast", type=Path, default=RESULTS / "neuralforecast_m4.json")
    args = parser.parse_args(argv)
    mine, theirs = load(args.lstmlens), load(args.neuralforecast)
    print("M4 Hourly validation split (last 48 values held out), lower is better")
    print("\n".join(table(mine, theirs)))


if __name__ == "__main__":
    main()
