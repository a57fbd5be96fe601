"""CLI commands that explain: ``walkthrough``, ``explain``, ``report`` and ``figures``.

Thin by design: each command parses its options, calls :mod:`lstmlens.explain` and prints.
Bad requests (an unknown series, a step outside the window, a unit beyond the hidden size,
a missing or unfitted model) are ValueErrors raised by the library; :func:`cli_errors` turns
them into one line on stderr and exit code 2. The library is imported inside the commands
so ``lstmlens --help`` stays instant.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from lstmlens.commands._errors import DebugOption, ForceOption, check_writable, cli_errors

__all__ = ["register"]


class Format(enum.StrEnum):
    """Output format of a narration (``--format``)."""

    text = "text"
    markdown = "markdown"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", "-F", help="Print the walk-through as plain text, Markdown "
                         "or JSON (every number at full precision).")
]
ModelArgument = Annotated[
    Path, typer.Argument(metavar="MODEL", help="Model file written by 'fit' or 'forecast "
                         "--save-model'.", show_default=False)
]
#: The files ``figures`` writes, each as PNG and SVG.
FIGURES = ("unit_diagram", "activation_curves", "memory_timeline", "attribution")

SeriesOption = Annotated[
    str | None, typer.Option("--series", "-s", help="Id of the series to explain.",
                             show_default="the model's first series")
]


def walkthrough(fmt: FormatOption = Format.text, debug: DebugOption = False) -> None:
    """Walk through the seed article's example with the engine's true numbers.

    The one LSTM unit of "Thinking like LSTMs" (input 1, short-term memory 1, long-term
    memory 5, Dense weight 2 and bias 1), with a note wherever the article's rounded numbers
    drift from what the engine computes.
    """
    with cli_errors(debug):
        from lstmlens.explain import seed_walkthrough

        _print(seed_walkthrough(), fmt)


def explain(
    model_file: ModelArgument,
    series: SeriesOption = None,
    step: Annotated[int, typer.Option("--step", "-t", help="Step of the last input window "
                                      "(0 = oldest; negative counts from the end).")] = -1,
    layer: Annotated[int, typer.Option("--layer", "-L", help="LSTM layer (0 = bottom; "
                                       "negative counts from the top).")] = -1,
    unit: Annotated[int | None, typer.Option(
        "--unit", "-u", help="Unit of the layer (0 .. hidden size - 1).",
        show_default="the unit that moves the forecast most")] = None,
    horizon_step: Annotated[int, typer.Option(
        "--horizon-step", "-k", help="Horizon step (Dense output) whose prediction the last "
        "part narrates (0 = the first forecast step).")] = 0,
    fmt: FormatOption = Format.text,
    debug: DebugOption = False,
) -> None:
    """Narrate one step of one unit of a saved model's last input window, the seed's way."""
    with cli_errors(debug):
        from lstmlens.explain.forecast import explain_forecast

        model = _load_model(model_file)
        narration = explain_forecast(model, series, layer=layer, time=step, unit=unit,
                                     output=horizon_step)
        _print(narration, fmt)


def report(
    model_file: ModelArgument,
    data: Annotated[Path | None, typer.Argument(
        metavar="[DATA]", help="CSV to score a held-out tail on (the last horizon values of "
        "each series) against the naive baselines.", show_default="no accuracy section")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")
                      ] = Path("report.html"),
    series: SeriesOption = None,
    force: ForceOption = False,
    debug: DebugOption = False,
) -> None:
    """Write one self-contained HTML report: forecast, accuracy, last step, memory, inputs."""
    with cli_errors(debug):
        from lstmlens.explain.report import write_report

        check_writable(output, force, what="report")
        if data is not None and not data.is_file():
            raise FileNotFoundError(f"data file {data} not found; check the path.")
        model = _load_model(model_file)
        write_report(model, output, data, overwrite=True, series_id=series)
        typer.echo(f"Wrote the report to {output}")


def figures(
    model_file: ModelArgument,
    series: SeriesOption = None,
    output_dir: Annotated[Path, typer.Option("--output", "-o", help="Folder for the figures "
                                             "(created if needed).")] = Path("figures"),
    force: ForceOption = False,
    debug: DebugOption = False,
) -> None:
    """Save a series' figures as PNG and SVG: diagram, curves, timeline, attribution.

    The unit diagram and activation curves show the top layer's last step for its most
    active unit; the memory timeline and the attribution cover the whole input window.
    """
    with cli_errors(debug):
        from lstmlens.explain.figures import (
            activation_curves,
            attribution_figure,
            memory_timeline,
            save_figure,
            unit_diagram,
        )
        from lstmlens.explain.forecast import (
            fitted_network,
            forecast_attributions,
            forecast_trace,
            narrate_forecast,
        )

        if output_dir.is_dir():
            for name in FIGURES:
                for suffix in (".png", ".svg"):
                    check_writable(output_dir / f"{name}{suffix}", force, what="figure")
        model = _load_model(model_file)
        network = fitted_network(model)
        trace = forecast_trace(model, series)
        narration = narrate_forecast(trace, parameters=network.parameters)
        drawn = {
            "unit_diagram": unit_diagram(narration),
            "activation_curves": activation_curves(narration),
            "memory_timeline": memory_timeline(trace),
            "attribution": attribution_figure(forecast_attributions(network, trace)),
        }
        for name, fig in drawn.items():
            png, svg = save_figure(fig, output_dir / name)
            typer.echo(f"Wrote {png} and {svg}")


def _print(narration: Any, fmt: Format) -> None:
    if fmt is Format.json:
        typer.echo(narration.to_json())
    elif fmt is Format.markdown:
        typer.echo(narration.to_markdown(), nl=False)
    else:
        typer.echo(narration.to_text(), nl=False)


def _load_model(path: Path) -> Any:
    """Load a saved forecaster; a missing file is a FileNotFoundError naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} not found; fit one with 'lstmlens fit'.")
    from lstmlens.forecaster import LSTMForecaster

    return LSTMForecaster.load(path)


def register(app: typer.Typer) -> None:
    """Add the explaining commands to ``app``."""
    app.command(no_args_is_help=False)(walkthrough)
    app.command(no_args_is_help=True)(explain)
    app.command(no_args_is_help=True)(report)
    app.command(no_args_is_help=True)(figures)
