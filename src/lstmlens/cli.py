"""The ``lstmlens`` command line: a thin typer layer over the library (no math here).

Each group of commands lives in :mod:`lstmlens.commands` and registers itself on ``app``.
"""

from __future__ import annotations

import typer

from lstmlens.commands import explaining, exploring, forecasting

app = typer.Typer(
    name="lstmlens",
    help="Forecast time series with an LSTM and see what its memory did.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (forecasting, explaining, exploring):
    _module.register(app)
