"""CLI command that opens the explorer: ``lstmlens explore [MODEL] [DATA]``.

Thin by design: it reads only the files named on the command line (a saved model, and
optionally the CSV it was fitted on), or trains a small demo model on the embedded airline
passengers, then hands the model to :mod:`lstmlens.explorer` and serves the page until
Ctrl+C. FastAPI, uvicorn and the library are imported inside the command so
``lstmlens --help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lstmlens.commands._errors import DebugOption, cli_errors, fail

if TYPE_CHECKING:
    from lstmlens.data import Panel
    from lstmlens.forecaster import LSTMForecaster

__all__ = ["DEMO_SETTINGS", "register"]

#: The demo model: one layer of 8 units reading two years of months, one month per step,
#: forecasting one year; trained for at most 300 steps or 30 seconds.
DEMO_SETTINGS: dict[str, Any] = {
    "horizon": 12,
    "input_size": 24,
    "step_length": 1,
    "hidden_size": 8,
    "num_layers": 1,
    "max_steps": 300,
    "time_budget": 30.0,
    "random_state": 0,
}
#: A model fitted on a CSV given as MODEL: the data chooses the window and horizon.
QUICK_SETTINGS: dict[str, Any] = {
    "hidden_size": 8,
    "max_steps": 300,
    "time_budget": 30.0,
    "random_state": 0,
}
DEMO_NOTE = ("No model given: training a small model on the embedded monthly airline "
             "passengers 1949–1960 (a few seconds)...")


def _existing(path: Path, what: str, hint: str) -> Path:
    """``path`` if it is a file, else a FileNotFoundError that says what to do."""
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} not found; {hint}")
    return path


def _demo() -> tuple[LSTMForecaster, Panel, str]:
    from lstmlens.data import load_panel
    from lstmlens.datasets import load_air_passengers
    from lstmlens.forecaster import LSTMForecaster

    typer.echo(DEMO_NOTE)
    panel = load_panel(load_air_passengers())
    model = LSTMForecaster(progress=True, **DEMO_SETTINGS).fit(panel)
    return model, panel, "demo model on the airline passengers"


def _fit_csv(path: Path) -> tuple[LSTMForecaster, Panel, str]:
    from lstmlens.data import load_panel
    from lstmlens.forecaster import LSTMForecaster

    typer.echo(f"{path} is a CSV: training a small model on it first...")
    panel = load_panel(path)
    model = LSTMForecaster(progress=True, **QUICK_SETTINGS).fit(panel)
    return model, panel, f"small model fitted on {path.name}"


def _load(model_file: Path, data: Path | None) -> tuple[LSTMForecaster, Panel | None, str]:
    from lstmlens.data import load_panel
    from lstmlens.forecaster import LSTMForecaster

    model = LSTMForecaster.load(model_file)
    panel = None
    if data is not None:
        panel = load_panel(data, id_col=model.id_col, time_col=model.time_col,
                           target_col=model.target_col, freq=model.freq)
    return model, panel, model_file.name


def explore(
    model_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="MODEL",
            help="Model file written by 'fit' or 'forecast --save-model' (a .csv file here "
            "trains a small model on it first).",
            show_default="a small model trained on the embedded airline passengers",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Argument(
            metavar="DATA",
            help="CSV the model was fitted on, drawn behind the forecast with fitted values.",
            show_default="the model's last input windows only",
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Interface to listen on. Anything but 127.0.0.1/localhost "
                     "exposes the page to other machines (a warning is printed)."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", min=1, max=65535, help="TCP port of the page.")
    ] = 8765,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the page in a web browser.")
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Open a local web page to step through a model: every gate, memory and weight, with
    what-if edits recomputed by the engine. Stop it with Ctrl+C."""
    with cli_errors(debug):
        _require_explorer_extra()
        from lstmlens.explorer import server
        from lstmlens.explorer.app import create_app

        model_hint = "fit one with 'lstmlens fit DATA', or run 'lstmlens explore' for a demo."
        panel: Panel | None
        if model_file is None:
            if data is not None:
                raise ValueError("DATA was given without MODEL; pass 'lstmlens explore MODEL DATA'"
                                 " or 'lstmlens explore DATA.csv' to fit a small model on it.")
            forecaster, panel, source = _demo()
        elif model_file.suffix.lower() == ".csv" and data is None:
            forecaster, panel, source = _fit_csv(
                _existing(model_file, "data file", "check the path.")
            )
        else:
            _existing(model_file, "model file", model_hint)
            if data is not None:
                _existing(data, "data file", "check the path, or leave DATA out.")
            forecaster, panel, source = _load(model_file, data)
        server.check_port_free(host, port)
        app = create_app(forecaster, panel, source=source)
        typer.echo(f"lstmlens explorer: {server.page_url(host, port)}  (press Ctrl+C to stop)")
        server.serve(app, host=host, port=port, open_browser=not no_browser, announce=False)


def register(app: typer.Typer) -> None:
    """Add the ``explore`` command to ``app``."""
    app.command(no_args_is_help=False)(explore)


def _require_explorer_extra() -> None:
    """Fail with the install command when the explorer's optional web stack is missing."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn", "multipart")
               if importlib.util.find_spec(name) is None]
    if missing:
        fail(f"the explorer needs {', '.join(missing)}, which a core install leaves out: "
             "pip install 'lstmlens[explorer]'.")
