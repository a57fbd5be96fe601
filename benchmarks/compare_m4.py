"""Side by side: lstmlens and NeuralForecast's LSTM on the same M4 Hourly split.

Reads ``benchmarks/results/m4_hourly.json`` (``benchmarks/m4_hourly.py``, one record per
split) and ``benchmarks/results/neuralforecast_m4.json`` (``benchmarks/neuralforecast_m4.py``)
and prints sMAPE, MASE, OWA, fit+predict time and peak memory of both, with the ratio
lstmlens / NeuralForecast (below 1: lstmlens is more accurate, faster or smaller)::

    python benchmarks/compare_m4.py [--lstmlens PATH] [--neuralforecast PATH]

The lstmlens record of the split NeuralForecast ran on is used (``test`` by default: the last
48 values of every series held out); a missing split is an error rather than a silent
comparison of different data.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

#: Row label, JSON key, format.
ROWS = (
    ("sMAPE", "smape", "{:.3f}"),
    ("MASE", "mase", "{:.3f}"),
    ("OWA", "owa", "{:.3f}"),
    ("fit+predict s", "fit_predict_seconds", "{:.1f}"),
    ("peak memory MiB", "peak_rss_mb", "{:.0f}"),
    ("threads", "threads", "{:.0f}"),
)


def load(path: Path) -> dict[str, Any]:
    """Read one result JSON, with a clear message when the benchmark has not been run."""
    if not path.is_file():
        raise SystemExit(f"Error: {path} not found; run the benchmark that writes it first.")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"Error: {path} does not hold a JSON object.")
    return data


def record_for_split(results: Mapping[str, Any], split: str, path: Path) -> Mapping[str, Any]:
    """The record of ``split`` in a file that stores one record per split name."""
    record = results.get(split)
    if isinstance(record, Mapping):
        return record
    if results.get("split") == split:
        return results
    raise SystemExit(
        f"Error: {path} has no result for the {split!r} split; run "
        f"'python benchmarks/m4_hourly.py --split {split}' first."
    )


def value(record: Mapping[str, Any], key: str) -> float | None:
    """A numeric figure of ``record``, or None."""
    found = record.get(key)
    if isinstance(found, int | float) and not isinstance(found, bool):
        return float(found)
    return None


def ratio(mine: float | None, theirs: float | None) -> str:
    """``mine / theirs`` as text, ``-`` when either is missing or ``theirs`` is 0."""
    if mine is None or theirs is None or theirs == 0:
        return "-"
    return f"{mine / theirs:.2f}x"


def table(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """Lines of the comparison table."""
    lines = [f"{'':<17}{'lstmlens':>10}{'NeuralForecast':>16}{'ratio':>8}"]
    for label, key, fmt in ROWS:
        a, b = value(mine, key), value(theirs, key)
        shown = ["-" if v is None else fmt.format(v) for v in (a, b)]
        lines.append(f"{label:<17}{shown[0]:>10}{shown[1]:>16}{ratio(a, b):>8}")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print the side-by-side table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lstmlens", type=Path, default=RESULTS / "m4_hourly.json")
    parser.add_argument("--neuralforecast", type=Path, default=RESULTS / "neuralforecast_m4.json")
    args = parser.parse_args(argv)
    theirs = load(args.neuralforecast)
    split = str(theirs.get("split", "test"))
    mine = record_for_split(load(args.lstmlens), split, args.lstmlens)
    if mine.get("n_series") != theirs.get("n_series"):
        raise SystemExit(
            f"Error: the results cover different series ({mine.get('n_series')} vs "
            f"{theirs.get('n_series')}); rerun both benchmarks on the whole file."
        )
    print(f"M4 Hourly, {split} split, {theirs.get('n_series', '?')} series, h=48; lower is "
          "better (ratio = lstmlens / NeuralForecast)")
    print("\n".join(table(mine, theirs)))
    if "fit_predict_cpu_seconds" in theirs:
        print(f"NeuralForecast CPU time: {theirs['fit_predict_cpu_seconds']:.1f} s "
              "(wall time is sensitive to other load on the machine)")


if __name__ == "__main__":
    main()
