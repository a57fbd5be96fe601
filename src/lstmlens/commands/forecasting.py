"""CLI commands that forecast: ``forecast``, ``fit``, ``predict``, ``backtest``/``evaluate``.

Thin by design: each command parses its options, calls :class:`~lstmlens.forecaster.
LSTMForecaster` and the metrics/baselines modules, and prints. The library (and numba) is
imported inside the commands so ``lstmlens --help`` stays instant.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lstmlens.commands._errors import (
    DebugOption,
    ForceOption,
    check_writable,
    cli_errors,
)

if TYPE_CHECKING:
    import pandas as pd

    from lstmlens.forecaster import LSTMForecaster

__all__ = ["register"]

EMBEDDED_NOTE = "No data given: using the embedded monthly airline passengers 1949–1960"
EMBEDDED_HORIZON = 24  # two seasons of the monthly embedded data
MAX_TABLE_ROWS = 48
MODEL = "LSTM"


class Missing(enum.StrEnum):
    """What to do with missing values (``--missing``)."""

    error = "error"
    interpolate = "interpolate"
    drop = "drop"


# --- options shared by several commands -------------------------------------------------------

_DATA = "Data"
_MODEL = "Model"
_OUTPUT = "Output"

HorizonOption = Annotated[
    int | None,
    typer.Option(
        "--horizon", "-H", min=1,
        help="Steps to forecast.",
        show_default="24 for the embedded data, else from the frequency (48 hourly, 18 "
        "monthly, 8 quarterly, ...)",
    ),
]
LevelsOption = Annotated[
    list[float] | None,
    typer.Option(
        "--levels", "-l", min=0.0, max=99.99,
        help="Prediction interval level in percent; repeat for several (--levels 80 "
        "--levels 95); 0 for none.",
        show_default="80 and 95",
    ),
]
IdColOption = Annotated[
    str, typer.Option("--id-col", help="Column with the series id (long format).",
                      rich_help_panel=_DATA)
]
TimeColOption = Annotated[
    str, typer.Option("--time-col", help="Column with the timestamps.", rich_help_panel=_DATA)
]
TargetColOption = Annotated[
    str, typer.Option("--target-col", help="Column with the values to forecast.",
                      rich_help_panel=_DATA)
]
FreqOption = Annotated[
    str | None,
    typer.Option("--freq", help="pandas frequency alias of the timestamps (h, D, W, MS, QS...).",
                 show_default="inferred from the dates", rich_help_panel=_DATA),
]
MissingOption = Annotated[
    Missing,
    typer.Option("--missing", help="Missing values and gaps: fail, fill linearly, or drop rows.",
                 case_sensitive=False, rich_help_panel=_DATA),
]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Random seed: the same seed gives the same model.",
                      rich_help_panel=_MODEL)
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar and no forecast table.")
]
InputSizeOption = Annotated[
    int | None,
    typer.Option("--input-size", min=1, help="Past values each forecast looks at.",
                 show_default="from the season (a week of hourly data, 2 years monthly)",
                 rich_help_panel=_MODEL),
]
HiddenSizeOption = Annotated[
    int | None,
    typer.Option("--hidden-size", min=1, help="LSTM units (size of the memory).",
                 show_default="the library's default", rich_help_panel=_MODEL),
]
MaxStepsOption = Annotated[
    int | None,
    typer.Option("--max-steps", min=1, help="Training steps (batches).",
                 show_default="the library's default", rich_help_panel=_MODEL),
]
EnsembleOption = Annotated[
    int | None,
    typer.Option("--ensemble", min=1, help="Networks trained with different seeds and averaged.",
                 show_default="the library's default", rich_help_panel=_MODEL),
]
DataArgument = Annotated[
    Path,
    typer.Argument(help="CSV file: long (unique_id, ds, y), wide (one column per series) or a "
                   "single column of numbers.", show_default=False),
]


@dataclass(frozen=True)
class DataSpec:
    """Where the data comes from and how to read it."""

    path: Path | None
    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str = "y"
    freq: str | None = None
    missing: str = "error"

    @property
    def columns(self) -> tuple[str, str, str]:
        """``(id_col, time_col, target_col)``."""
        return self.id_col, self.time_col, self.target_col


@dataclass(frozen=True)
class ModelSpec:
    """Model options given on the command line; None means the library's default."""

    horizon: int | None
    input_size: int | None = None
    hidden_size: int | None = None
    max_steps: int | None = None
    ensemble: int | None = None
    seed: int = 0
    quiet: bool = False


# --- library calls ----------------------------------------------------------------------------


def _load_history(data: DataSpec) -> tuple[pd.DataFrame, str | None]:
    """Read and validate the data; return the long frame (user's column names) and its freq."""
    from lstmlens.data import load_panel
    from lstmlens.datasets import load_air_passengers

    source: Any = load_air_passengers() if data.path is None else _existing_file(data.path)
    panel = load_panel(source, id_col="unique_id" if data.path is None else data.id_col,
                       time_col=data.time_col if data.path else "ds",
                       target_col=data.target_col if data.path else "y",
                       freq=data.freq, missing=data.missing)  # type: ignore[arg-type]
    frame = panel.to_frame(id_col=data.id_col, time_col=data.time_col,
                           target_col=data.target_col)
    return frame, panel.freq


def _existing_file(path: Path) -> Path:
    """``path`` if it is a readable file, else a FileNotFoundError naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} not found; check the path.")
    return path


def _default_horizon(data: DataSpec, freq: str | None) -> int:
    """Horizon when ``--horizon`` is not given (see :data:`HorizonOption`)."""
    from lstmlens.forecaster import default_horizon

    if data.path is None:
        return EMBEDDED_HORIZON
    return default_horizon(freq)


def _make_forecaster(spec: ModelSpec, data: DataSpec, horizon: int) -> LSTMForecaster:
    """Build the estimator from the options that were given (others keep library defaults)."""
    from lstmlens.forecaster import LSTMForecaster

    given = {
        "input_size": spec.input_size,
        "hidden_size": spec.hidden_size,
        "max_steps": spec.max_steps,
        "ensemble": spec.ensemble,
    }
    return LSTMForecaster(
        horizon=horizon,
        random_state=spec.seed,
        progress=not spec.quiet,
        id_col=data.id_col,
        time_col=data.time_col,
        target_col=data.target_col,
        freq=data.freq,
        **{name: value for name, value in given.items() if value is not None},
    )


def _fit(spec: ModelSpec, data: DataSpec) -> tuple[LSTMForecaster, pd.DataFrame]:
    """Load the data, fit a forecaster on it; return the model and the history frame."""
    history, freq = _load_history(data)
    horizon = spec.horizon or _default_horizon(data, freq)
    model = _make_forecaster(spec, data, horizon)
    model.fit(history)
    return model, history


def _levels(levels: list[float] | None) -> list[float] | None:
    """``--levels`` as the library wants them: default (80, 95), ``0`` alone for none."""
    if levels is None:
        return [80.0, 95.0]
    chosen = [level for level in levels if level > 0]
    return chosen or None


# --- output -----------------------------------------------------------------------------------


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write forecasts as CSV (the caller has checked the path)."""
    frame.to_csv(path, index=False)
    typer.echo(f"Wrote {len(frame)} forecasts to {path}")


def _write_plot(history: pd.DataFrame, forecasts: pd.DataFrame, path: Path,
                columns: tuple[str, str, str]) -> None:
    """Draw the forecast figure and say where it went."""
    from lstmlens.commands._plot import plot_forecasts

    drawn = plot_forecasts(history, forecasts, path, columns=columns, model=MODEL)
    total = forecasts[columns[0]].nunique()
    note = "" if drawn == total else f" (first {drawn} of {total} series)"
    typer.echo(f"Wrote the plot to {path}{note}")


def _print_forecasts(forecasts: pd.DataFrame, id_col: str, time_col: str) -> None:
    """Print a readable table: series, date, forecast and interval bounds."""
    from rich.console import Console
    from rich.table import Table

    from lstmlens.commands._plot import interval_columns

    table = Table(title="LSTM forecasts", title_justify="left")
    table.add_column("series")
    table.add_column("date")
    table.add_column("forecast", justify="right")
    bands = sorted(interval_columns(list(forecasts.columns), MODEL), key=lambda b: float(b[0]))
    for level, _, _ in bands:
        table.add_column(f"{level}% interval", justify="right")
    for values in forecasts.head(MAX_TABLE_ROWS).to_dict("records"):
        cells = [str(values[id_col]), _date_text(values[time_col]), f"{values[MODEL]:,.2f}"]
        cells += [f"{values[lo]:,.2f} – {values[hi]:,.2f}" for _, lo, hi in bands]
        table.add_row(*cells)
    console = Console(highlight=False)
    console.print(table)
    if len(forecasts) > MAX_TABLE_ROWS:
        console.print(f"… {len(forecasts) - MAX_TABLE_ROWS} more rows in the CSV file.")


def _date_text(value: Any) -> str:
    """A timestamp without a midnight time part; integers as they are."""
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") else text


# --- commands ---------------------------------------------------------------------------------


def forecast(
    data: Annotated[
        Path | None,
        typer.Argument(help="CSV file: long (unique_id, ds, y), wide (one column per series) "
                       "or a single column of numbers.",
                       show_default="the embedded airline passengers data"),
    ] = None,
    horizon: HorizonOption = None,
    levels: LevelsOption = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Forecasts CSV to write.",
                           rich_help_panel=_OUTPUT)
    ] = Path("forecasts.csv"),
    plot: Annotated[
        Path, typer.Option("--plot", help="PNG of history, forecast and intervals.",
                           rich_help_panel=_OUTPUT)
    ] = Path("forecast.png"),
    no_plot: Annotated[
        bool, typer.Option("--no-plot", help="Do not draw the plot.", rich_help_panel=_OUTPUT)
    ] = False,
    save_model: Annotated[
        Path | None, typer.Option("--save-model", help="Also save the fitted model here.",
                                  rich_help_panel=_OUTPUT)
    ] = None,
    force: ForceOption = False,
    id_col: IdColOption = "unique_id",
    time_col: TimeColOption = "ds",
    target_col: TargetColOption = "y",
    freq: FreqOption = None,
    missing: MissingOption = Missing.error,
    seed: SeedOption = 0,
    input_size: InputSizeOption = None,
    hidden_size: HiddenSizeOption = None,
    max_steps: MaxStepsOption = None,
    ensemble: EnsembleOption = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Fit an LSTM and forecast: prints a table, writes a CSV and a plot.

    Without DATA it runs on the embedded monthly airline passengers 1949–1960.
    """
    with cli_errors(debug):
        for path in (output, *([] if no_plot else [plot]), *([save_model] if save_model else [])):
            check_writable(path, force)
        if data is None:
            typer.echo(EMBEDDED_NOTE)
        spec = DataSpec(data, id_col, time_col, target_col, freq, missing.value)
        model_spec = ModelSpec(horizon, input_size, hidden_size, max_steps, ensemble, seed, quiet)
        model, history = _fit(model_spec, spec)
        forecasts = model.predict(levels=_levels(levels))
        if not quiet:
            _print_forecasts(forecasts, id_col, time_col)
        _write_csv(forecasts, output)
        if not no_plot:
            _write_plot(history, forecasts, plot, spec.columns)
        if save_model is not None:
            model.save(save_model, overwrite=force)
            typer.echo(f"Saved the model to {save_model}")


def fit(
    data: DataArgument,
    horizon: HorizonOption = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Model file to write.", rich_help_panel=_OUTPUT)
    ] = Path("model.lstmlens"),
    force: ForceOption = False,
    id_col: IdColOption = "unique_id",
    time_col: TimeColOption = "ds",
    target_col: TargetColOption = "y",
    freq: FreqOption = None,
    missing: MissingOption = Missing.error,
    seed: SeedOption = 0,
    input_size: InputSizeOption = None,
    hidden_size: HiddenSizeOption = None,
    max_steps: MaxStepsOption = None,
    ensemble: EnsembleOption = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Fit an LSTM on DATA and save it to a model file (use it with 'predict')."""
    with cli_errors(debug):
        check_writable(output, force, what="model file")
        spec = DataSpec(data, id_col, time_col, target_col, freq, missing.value)
        model_spec = ModelSpec(horizon, input_size, hidden_size, max_steps, ensemble, seed, quiet)
        model, _ = _fit(model_spec, spec)
        model.save(output, overwrite=force)
        typer.echo(f"Saved the model to {output}")


def predict(
    model_file: Annotated[
        Path, typer.Argument(metavar="MODEL", help="Model file written by 'fit' or "
                             "'forecast --save-model'.", show_default=False)
    ],
    horizon: Annotated[
        int | None,
        typer.Option("--horizon", "-H", min=1, help="Steps to forecast (at most the horizon "
                     "the model was fitted for).", show_default="the fitted horizon"),
    ] = None,
    levels: LevelsOption = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Forecasts CSV to write.",
                           rich_help_panel=_OUTPUT)
    ] = Path("forecasts.csv"),
    force: ForceOption = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Forecast with a saved model; prints a table and writes a CSV."""
    with cli_errors(debug):
        from lstmlens.forecaster import LSTMForecaster

        check_writable(output, force)
        model = LSTMForecaster.load(_existing_file(model_file))
        forecasts = model.predict(h=horizon, levels=_levels(levels))
        if not quiet:
            _print_forecasts(forecasts, model.id_col, model.time_col)
        _write_csv(forecasts, output)


def register(app: typer.Typer) -> None:
    """Add the forecasting commands to ``app``."""
    app.command(no_args_is_help=False)(forecast)
    app.command(no_args_is_help=True)(fit)
    app.command(no_args_is_help=True)(predict)
