"""What the forecasting commands print and write: rich tables, CSV files and the plot.

rich and matplotlib are imported inside the functions, so importing the CLI stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lstmlens.commands._plot import interval_columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_TABLE_ROWS", "print_forecasts", "print_metrics", "write_csv", "write_plot"]

#: The forecast table shows at most this many rows; the CSV has them all.
MAX_TABLE_ROWS = 48
MODEL = "LSTM"


def write_csv(frame: pd.DataFrame, path: Path, what: str = "forecasts") -> None:
    """Write ``frame`` as CSV (the caller has checked the path) and say so."""
    frame.to_csv(path, index=False)
    typer.echo(f"Wrote {len(frame)} {what} to {path}")


def write_plot(
    history: pd.DataFrame, forecasts: pd.DataFrame, path: Path, columns: tuple[str, str, str]
) -> None:
    """Draw history, forecasts and intervals to ``path`` and say so."""
    from lstmlens.commands._plot import plot_forecasts

    drawn = plot_forecasts(history, forecasts, path, columns=columns, model=MODEL)
    total = forecasts[columns[0]].nunique()
    note = "" if drawn == total else f" (the first {drawn} of {total} series)"
    typer.echo(f"Wrote the plot to {path}{note}")


def _number(value: Any) -> str:
    """A forecast value with thousands separators and two decimals."""
    return f"{float(value):,.2f}"


def _date_text(value: Any) -> str:
    """A timestamp without a midnight time part; integer positions as they are."""
    text = str(value)
    return text[: -len(" 00:00:00")] if text.endswith(" 00:00:00") else text


def print_forecasts(forecasts: pd.DataFrame, id_col: str, time_col: str) -> None:
    """Print a readable table: series, date, forecast and interval bounds (narrowest first)."""
    from rich.console import Console
    from rich.table import Table

    bands = list(reversed(interval_columns(list(forecasts.columns), MODEL)))
    table = Table(title="LSTM forecasts", title_justify="left")
    table.add_column("series")
    table.add_column("date")
    table.add_column("forecast", justify="right")
    for level, _, _ in bands:
        table.add_column(f"{level}% interval", justify="right")
    for row in forecasts.head(MAX_TABLE_ROWS).to_dict("records"):
        cells = [str(row[id_col]), _date_text(row[time_col]), _number(row[MODEL])]
        cells += [f"{_number(row[lo])} – {_number(row[hi])}" for _, lo, hi in bands]
        table.add_row(*cells)
    console = Console(highlight=False)
    console.print(table)
    if len(forecasts) > MAX_TABLE_ROWS:
        console.print(f"… and {len(forecasts) - MAX_TABLE_ROWS} more rows in the CSV file.")


def print_metrics(scores: Mapping[str, Mapping[str, float]], title: str) -> None:
    """Print one row per model and one column per metric (lower is better)."""
    from rich.console import Console
    from rich.table import Table

    names = list(next(iter(scores.values())))
    table = Table(title=title, title_justify="left", caption="lower is better; OWA: Naive2 = 1")
    table.add_column("model")
    for name in names:
        table.add_column(name, justify="right")
    for model, row in scores.items():
        table.add_row(model, *(f"{row[name]:,.3f}" for name in names))
    Console(highlight=False).print(table)
