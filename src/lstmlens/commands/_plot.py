"""The CLI's forecast figure: history, forecast and interval bands, one panel per series.

matplotlib is imported inside :func:`plot_forecasts` (Agg backend, no display needed), so
commands that do not draw never pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_PLOTTED_SERIES", "interval_columns", "plot_forecasts"]

#: At most this many series are drawn (the first ones, in the order of the forecasts).
MAX_PLOTTED_SERIES = 6


def interval_columns(columns: list[str], model: str = "LSTM") -> list[tuple[str, str, str]]:
    """``(level, lo column, hi column)`` for every interval in ``columns``, widest first.

    >>> interval_columns(["LSTM", "LSTM-lo-80", "LSTM-hi-80"])
    [('80', 'LSTM-lo-80', 'LSTM-hi-80')]
    """
    prefix = f"{model}-lo-"
    found = [
        (column[len(prefix) :], column, f"{model}-hi-{column[len(prefix):]}")
        for column in columns
        if column.startswith(prefix) and f"{model}-hi-{column[len(prefix):]}" in columns
    ]
    return sorted(found, key=lambda band: -float(band[0]))


def plot_forecasts(
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    path: Path,
    *,
    columns: tuple[str, str, str],
    model: str = "LSTM",
    max_series: int = MAX_PLOTTED_SERIES,
) -> int:
    """Draw the history and forecasts of up to ``max_series`` series to a PNG.

    Parameters
    ----------
    history : pandas.DataFrame
        Observed data in long format with the columns named by ``columns``.
    forecasts : pandas.DataFrame
        Output of ``LSTMForecaster.predict``: id, time, ``model`` and interval columns.
    path : pathlib.Path
        Where to write the image (format from the suffix, usually ``.png``).
    columns : tuple of str
        ``(id column, time column, target column)`` of ``history``; ``forecasts`` uses the
        same id and time columns.
    model : str, default "LSTM"
        Name of the forecast column.
    max_series : int, default 6
        Draw at most this many series.

    Returns
    -------
    int
        The number of series drawn.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    id_col, time_col, target_col = columns
    series_ids = list(dict.fromkeys(forecasts[id_col]))[:max_series]
    bands = interval_columns(list(forecasts.columns), model)
    figure, axes = plt.subplots(
        len(series_ids), 1, figsize=(10, 3.2 * len(series_ids)), squeeze=False
    )
    for ax, series_id in zip(axes[:, 0], series_ids, strict=True):
        past = history[history[id_col] == series_id]
        future = forecasts[forecasts[id_col] == series_id]
        ax.plot(past[time_col], past[target_col], color="black", linewidth=1.2, label="history")
        for index, (level, lo, hi) in enumerate(bands):
            ax.fill_between(future[time_col], future[lo], future[hi], color="tab:blue",
                            alpha=0.15 + 0.15 * index, linewidth=0, label=f"{level}% interval")
        ax.plot(future[time_col], future[model], color="tab:blue", linewidth=1.6,
                label=f"{model} forecast")
        ax.set_title(str(series_id))
        ax.set_ylabel(target_col)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return len(series_ids)
