"""The ``lstmlens`` command line: a thin typer layer over the library (no math here)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="lstmlens",
    help="Forecast time series with an LSTM and see what its memory did.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Forecast time series with an LSTM and see what its memory did."""
