"""CLI commands that forecast: ``forecast``, ``fit``, ``predict``, ``backtest`` (= ``evaluate``).

Thin by design: each command parses its options, calls
:class:`~lstmlens.forecaster.LSTMForecaster`, and prints or writes what it returned. The
library (numba, pandas) is imported inside the commands so ``lstmlens --help`` stays fast.
Errors become one ``Error:`` line and an exit code, see :mod:`lstmlens.commands._errors`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lstmlens.commands import _output
from lstmlens.commands._errors import DebugOption, ForceOption, check_writable, cli_errors

if TYPE_CHECKING:
    import pandas as pd

    from lstmlens.data import Panel
    from lstmlens.forecaster import LSTMForecaster

__all__ = ["register"]

EMBEDDED_NOTE = "No data given: using the embedded monthly airline passengers 1949–1960"
#: Two seasons of the monthly embedded data.
EMBEDDED_HORIZON = 24
#: Interval levels when ``--levels`` is not given (each only if the model can calibrate it).
DEFAULT_LEVELS = (80.0, 95.0)


class Missing(enum.StrEnum):
    """What to do with missing values and gaps (``--missing``)."""

    error = "error"
    interpolate = "interpolate"
    drop = "drop"


# --- options ----------------------------------------------------------------------------------

_DATA, _MODEL, _OUTPUT = "Data", "Model", "Output"

DataArgument = Annotated[
    Path,
    typer.Argument(
        help="CSV file: long (unique_id, ds, y), wide (one column per series) or one column "
        "of numbers.",
        show_default=False,
    ),
]
OptionalDataArgument = Annotated[
    Path | None,
    typer.Argument(
        help="CSV file: long (unique_id, ds, y), wide (one column per series) or one column "
        "of numbers.",
        show_default="the embedded airline passengers 1949–1960",
    ),
]
HorizonOption = Annotated[
    int | None,
    typer.Option(
        "--horizon", "-H", min=1, help="Steps to forecast.",
        show_default="24 for the embedded data, else from the frequency: 48 hourly, 14 daily, "
        "13 weekly, 18 monthly, 8 quarterly",
    ),
]
LevelsOption = Annotated[
    list[float] | None,
    typer.Option(
        "--levels", "-l", min=0.0, max=99.9,
        help="Prediction interval level in percent; repeat for several (--levels 80 --levels "
        "95); --levels 0 for none.",
        show_default="80 and 95 when the model has enough calibration windows",
    ),
]
IdColOption = Annotated[
    str, typer.Option("--id-col", help="Column with the series ids (long format).",
                      rich_help_panel=_DATA),
]
TimeColOption = Annotated[
    str, typer.Option("--time-col", help="Column with the timestamps.", rich_help_panel=_DATA),
]
TargetColOption = Annotated[
    str, typer.Option("--target-col", help="Column with the values to forecast.",
                      rich_help_panel=_DATA),
]
FreqOption = Annotated[
    str | None,
    typer.Option("--freq", help="pandas frequency alias of the timestamps: h, D, W, MS, QS...",
                 show_default="inferred from the dates", rich_help_panel=_DATA),
]
MissingOption = Annotated[
    Missing,
    typer.Option("--missing", help="Missing values and gaps: fail, fill linearly, or drop the "
                 "rows.", case_sensitive=False, rich_help_panel=_DATA),
]
SeasonOption = Annotated[
    int | None,
    typer.Option("--season", min=1, help="Seasonal period (values per cycle).",
                 show_default="from the frequency: 24 hourly, 7 daily, 52 weekly, 12 monthly, "
                 "4 quarterly, else 1", rich_help_panel=_MODEL),
]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Random seed; the same seed gives the same model.",
                      rich_help_panel=_MODEL),
]
InputSizeOption = Annotated[
    int | None,
    typer.Option("--input-size", min=1, help="Past values each forecast looks at.",
                 show_default="a whole number of seasons: 168 hourly, 36 monthly...",
                 rich_help_panel=_MODEL),
]
HiddenSizeOption = Annotated[
    int, typer.Option("--hidden-size", min=1, help="LSTM units (the size of its memory).",
                      rich_help_panel=_MODEL),
]
MaxStepsOption = Annotated[
    int | None,
    typer.Option("--max-steps", min=1, help="Training steps (batches of windows) per network.",
                 show_default="auto: about 30 passes over the windows, 300 to 20000",
                 rich_help_panel=_MODEL),
]
TimeBudgetOption = Annotated[
    float | None,
    typer.Option("--time-budget", min=0.1, help="Seconds of training instead of a number of "
                 "steps (results then vary from run to run).", show_default="none",
                 rich_help_panel=_MODEL),
]
EnsembleOption = Annotated[
    int | None,
    typer.Option("--ensemble", min=1, help="Networks trained from different seeds; the "
                 "forecast is their median.", show_default="auto: 4 for hourly data, else 1",
                 rich_help_panel=_MODEL),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar and no forecast table."),
]


@dataclass(frozen=True)
class DataSpec:
    """Where the data comes from (None: the embedded dataset) and how to read it."""

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
    """Model options from the command line; None keeps the library's automatic choice."""

    horizon: int | None = None
    season: int | None = None
    input_size: int | None = None
    hidden_size: int = 128
    max_steps: int | None = None
    time_budget: float | None = None
    ensemble: int | None = None
    seed: int = 0
    quiet: bool = False

    def forecaster(self, data: DataSpec) -> LSTMForecaster:
        """An unfitted :class:`LSTMForecaster` with these settings."""
        from lstmlens.forecaster import LSTMForecaster

        horizon = self.horizon
        if horizon is None and data.path is None:
            horizon = EMBEDDED_HORIZON
        return LSTMForecaster(
            horizon=horizon,
            input_size=self.input_size,
            season=self.season,
            hidden_size=self.hidden_size,
            max_steps="auto" if self.max_steps is None else self.max_steps,
            time_budget=self.time_budget,
            ensemble_size="auto" if self.ensemble is None else self.ensemble,
            random_state=self.seed,
            progress=not self.quiet,
            id_col=data.id_col,
            time_col=data.time_col,
            target_col=data.target_col,
            freq=data.freq,
            missing=data.missing,
        )


# --- library calls ----------------------------------------------------------------------------


def _load(data: DataSpec) -> Panel:
    """Read and validate the data (the embedded dataset when no file is given)."""
    from lstmlens.data import load_panel
    from lstmlens.datasets import load_air_passengers

    if data.path is None:
        return load_panel(load_air_passengers())
    if not data.path.is_file():
        raise FileNotFoundError(f"data file {data.path} not found; check the path.")
    return load_panel(data.path, id_col=data.id_col, time_col=data.time_col,
                      target_col=data.target_col, freq=data.freq,
                      missing=data.missing)  # type: ignore[arg-type]


def _fit(model: ModelSpec, data: DataSpec) -> tuple[LSTMForecaster, Panel]:
    """Load the data and fit a forecaster on it."""
    panel = _load(data)
    return model.forecaster(data).fit(panel), panel


def _load_model(path: Path) -> LSTMForecaster:
    """Load a saved model (ModelFileError, exit code 2, if missing or damaged)."""
    from lstmlens.forecaster import LSTMForecaster

    return LSTMForecaster.load(path)


def _choose_levels(levels: list[float] | None, model: LSTMForecaster) -> list[float]:
    """The interval levels to ask for.

    Given levels are passed on as they are (``0`` means none), so the library explains any
    that cannot be served. Without ``--levels`` each of :data:`DEFAULT_LEVELS` is used only if
    the model kept enough calibration windows for it.
    """
    from lstmlens.intervals import required_windows

    if levels is not None:
        return [level for level in levels if level > 0]
    intervals = model.intervals_
    if intervals is None:
        return []
    return [level for level in DEFAULT_LEVELS if required_windows(level) <= intervals.n_windows]


def _predict(model: LSTMForecaster, h: int | None, levels: list[float] | None,
             quiet: bool) -> pd.DataFrame:
    """Forecast, noting when the default intervals had to be left out."""
    chosen = _choose_levels(levels, model)
    if levels is None and len(chosen) < len(DEFAULT_LEVELS) and not quiet:
        shown = ", ".join(f"{level:g}%" for level in chosen) or "no"
        typer.echo(f"Note: {shown} intervals: the model kept too few calibration windows "
                   "for more (longer series give more).")
    return model.predict(h=h, levels=chosen or None)


# --- commands ---------------------------------------------------------------------------------


def forecast(
    data: OptionalDataArgument = None,
    horizon: HorizonOption = None,
    levels: LevelsOption = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Forecasts CSV to write.",
                           rich_help_panel=_OUTPUT),
    ] = Path("forecasts.csv"),
    plot: Annotated[
        Path, typer.Option("--plot", help="PNG of the history, forecasts and intervals.",
                           rich_help_panel=_OUTPUT),
    ] = Path("forecast.png"),
    no_plot: Annotated[
        bool, typer.Option("--no-plot", help="Do not draw the plot.", rich_help_panel=_OUTPUT),
    ] = False,
    save_model: Annotated[
        Path | None, typer.Option("--save-model", help="Also save the fitted model to this "
                                  "file (for 'predict').", show_default="not saved",
                                  rich_help_panel=_OUTPUT),
    ] = None,
    force: ForceOption = False,
    id_col: IdColOption = "unique_id",
    time_col: TimeColOption = "ds",
    target_col: TargetColOption = "y",
    freq: FreqOption = None,
    missing: MissingOption = Missing.error,
    season: SeasonOption = None,
    input_size: InputSizeOption = None,
    hidden_size: HiddenSizeOption = 128,
    max_steps: MaxStepsOption = None,
    time_budget: TimeBudgetOption = None,
    ensemble: EnsembleOption = None,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Fit an LSTM and forecast: prints a table, writes a CSV and a plot.

    Without DATA it runs on the embedded monthly airline passengers 1949–1960.
    """
    with cli_errors(debug):
        outputs = [output] + ([] if no_plot else [plot]) + ([save_model] if save_model else [])
        for path in outputs:
            check_writable(path, force)
        if data is None:
            typer.echo(EMBEDDED_NOTE)
        source = DataSpec(data, id_col, time_col, target_col, freq, missing.value)
        settings = ModelSpec(horizon, season, input_size, hidden_size, max_steps, time_budget,
                             ensemble, seed, quiet)
        model, panel = _fit(settings, source)
        forecasts = _predict(model, None, levels, quiet)
        if not quiet:
            _output.print_forecasts(forecasts, id_col, time_col)
        _output.write_csv(forecasts, output)
        if not no_plot:
            history = panel.to_frame(id_col=id_col, time_col=time_col, target_col=target_col)
            _output.write_plot(history, forecasts, plot, source.columns)
        if save_model is not None:
            model.save(save_model, overwrite=force)
            typer.echo(f"Saved the model to {save_model}")


def fit(
    data: DataArgument,
    horizon: HorizonOption = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Model file to write.",
                           rich_help_panel=_OUTPUT),
    ] = Path("model.lstmlens"),
    force: ForceOption = False,
    id_col: IdColOption = "unique_id",
    time_col: TimeColOption = "ds",
    target_col: TargetColOption = "y",
    freq: FreqOption = None,
    missing: MissingOption = Missing.error,
    season: SeasonOption = None,
    input_size: InputSizeOption = None,
    hidden_size: HiddenSizeOption = 128,
    max_steps: MaxStepsOption = None,
    time_budget: TimeBudgetOption = None,
    ensemble: EnsembleOption = None,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Fit an LSTM on DATA and save it to a model file (forecast with 'predict')."""
    with cli_errors(debug):
        check_writable(output, force, what="model file")
        source = DataSpec(data, id_col, time_col, target_col, freq, missing.value)
        settings = ModelSpec(horizon, season, input_size, hidden_size, max_steps, time_budget,
                             ensemble, seed, quiet)
        model, panel = _fit(settings, source)
        model.save(output, overwrite=force)
        typer.echo(f"Saved the model ({len(panel)} series, horizon {model.horizon_}) to {output}")


def predict(
    model: Annotated[
        Path, typer.Argument(help="Model file written by 'fit' or "
                             "'forecast --save-model'.", show_default=False),
    ],
    horizon: Annotated[
        int | None,
        typer.Option("--horizon", "-H", min=1, help="Steps to forecast, at most the horizon "
                     "the model was fitted for.", show_default="the fitted horizon"),
    ] = None,
    levels: LevelsOption = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Forecasts CSV to write.",
                           rich_help_panel=_OUTPUT),
    ] = Path("forecasts.csv"),
    force: ForceOption = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Forecast with a saved model: prints a table and writes a CSV."""
    with cli_errors(debug):
        check_writable(output, force)
        forecaster = _load_model(model)
        forecasts = _predict(forecaster, horizon, levels, quiet)
        if not quiet:
            _output.print_forecasts(forecasts, forecaster.id_col, forecaster.time_col)
        _output.write_csv(forecasts, output)


def backtest(
    data: OptionalDataArgument = None,
    horizon: HorizonOption = None,
    windows: Annotated[
        int, typer.Option("--windows", "-w", min=1, help="Forecast origins (cutoffs) per "
                          "series, at the end of each series."),
    ] = 3,
    step_size: Annotated[
        int | None, typer.Option("--step-size", min=1, help="Values between cutoffs.",
                                 show_default="the horizon"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write every window's forecasts "
                                  "(LSTM and baselines) to this CSV.", show_default="not written",
                                  rich_help_panel=_OUTPUT),
    ] = None,
    force: ForceOption = False,
    id_col: IdColOption = "unique_id",
    time_col: TimeColOption = "ds",
    target_col: TargetColOption = "y",
    freq: FreqOption = None,
    missing: MissingOption = Missing.error,
    season: SeasonOption = None,
    input_size: InputSizeOption = None,
    hidden_size: HiddenSizeOption = 128,
    max_steps: MaxStepsOption = None,
    time_budget: TimeBudgetOption = None,
    ensemble: EnsembleOption = None,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Backtest on the end of each series: LSTM vs SeasonalNaive and Naive2.

    Without DATA it runs on the embedded monthly airline passengers 1949–1960.

    Fits on the data before the earliest cutoff, forecasts from every cutoff and prints MAE,
    RMSE, sMAPE, MASE and OWA averaged over all windows.
    """
    with cli_errors(debug):
        if output is not None:
            check_writable(output, force)
        if data is None:
            typer.echo(EMBEDDED_NOTE)
        source = DataSpec(data, id_col, time_col, target_col, freq, missing.value)
        settings = ModelSpec(horizon, season, input_size, hidden_size, max_steps, time_budget,
                             ensemble, seed, quiet)
        _run_backtest(settings, source, windows, step_size, output)


def _run_backtest(settings: ModelSpec, source: DataSpec, n_windows: int, step_size: int | None,
                  output: Path | None) -> None:
    """Backtest the LSTM, score it with the baselines, print the table, write the CSV."""
    from lstmlens import presets
    from lstmlens.commands import _evaluation

    panel = _load(source)
    model = settings.forecaster(source)
    frame = model.backtest(panel, n_windows, step_size=step_size, h=model.horizon)
    h = int(frame.groupby([source.id_col, "cutoff"]).size().iloc[0])
    season = settings.season or presets.default_season(panel.freq)
    lined_up = _evaluation.collect_windows(panel, frame, id_col=source.id_col, h=h,
                                           step=step_size or h, season=season)
    scores = _evaluation.score_windows(lined_up, season)
    title = (f"Backtest: {len(panel)} series x {n_windows} windows of h={h} "
             f"(season {season})")
    _output.print_metrics(scores, title)
    if output is not None:
        _output.write_csv(_evaluation.with_baselines(frame, lined_up, source.id_col), output,
                          what="backtest forecasts")


def register(app: typer.Typer) -> None:
    """Add the forecasting commands to ``app``."""
    app.command()(forecast)
    app.command(no_args_is_help=True)(fit)
    app.command(no_args_is_help=True)(predict)
    app.command()(backtest)
    app.command("evaluate",
                help="Same as 'backtest': LSTM vs SeasonalNaive and Naive2 on the last "
                "windows of each series.")(backtest)

