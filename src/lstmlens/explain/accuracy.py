"""Accuracy on a held-out tail: the LSTM against the naive baselines, for the report.

The last ``h`` values of every series are held out; the LSTM forecasts them from the values
before, and so do Naive, Seasonal naive and M4's Naive2 (:mod:`lstmlens.baselines`). Scores
are :mod:`lstmlens.metrics`' sMAPE, MASE and MAE averaged over series, plus OWA relative to
Naive2 when it is defined.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lstmlens import baselines, metrics
from lstmlens.cell import FloatArray

MODEL_COLUMN = "LSTM"


@dataclass(frozen=True)
class AccuracyTable:
    """Mean scores per model on the held-out tail (lower is better)."""

    horizon: int
    season: int
    n_series: int
    rows: dict[str, dict[str, float]]
    in_sample: bool | None = None

    def description(self) -> str:
        """What was scored, and whether the model had seen the tail when it was fitted."""
        text = (f"The last {self.horizon} values of each of the {self.n_series} series were "
                f"held out and forecast from the values before them, without refitting; "
                f"scores are averaged over series (MASE scaled by the in-sample seasonal "
                f"difference, season {self.season}; OWA relative to Naive2). Lower is better.")
        if self.in_sample:
            text += (" Caution: the model was fitted on data that includes this tail, so its "
                     "scores are optimistic; for an honest test fit it without the tail or "
                     "use 'lstmlens backtest'.")
        elif self.in_sample is False:
            text += " The model was fitted before this tail: the scores are out of sample."
        return text

    def to_text(self) -> str:
        """The table as aligned text."""
        names = list(next(iter(self.rows.values())))
        lines = [f"{'model':<14}" + "".join(f"{name:>10}" for name in names)]
        for model, scores in self.rows.items():
            lines.append(f"{model:<14}" + "".join(f"{scores[n]:>10.3f}" for n in names))
        return "\n".join(lines)


def tail_backtest(
    forecaster: Any, data: Any, *, h: int | None = None, season: int | None = None
) -> AccuracyTable:
    """Score the forecaster and the baselines on the last ``h`` values of ``data``.

    Parameters
    ----------
    forecaster : LSTMForecaster
        A fitted forecaster; it forecasts each series from the values before the tail with
        ``predict(h=h, data=history)`` (no refit).
    data : DataFrame, path or Panel
        The series, read with the forecaster's column names.
    h : int, optional
        Held-out length (default: the forecaster's fitted horizon).
    season : int, optional
        Seasonal period (default: the forecaster's, else from the data's frequency).

    Returns
    -------
    AccuracyTable
    """
    panel = _as_panel(forecaster, data)
    h = int(h or getattr(forecaster, "horizon_", 0) or getattr(forecaster, "horizon", 0) or 0)
    if h < 1:
        raise ValueError("h must be given (the forecaster has no horizon): pass h >= 1.")
    season = int(season or getattr(forecaster, "season_", 0) or _default_season(panel.freq))
    history, holdout = panel.split_last(h)
    actual = np.stack(holdout.values)  # (n_series, h)
    forecasts = {MODEL_COLUMN: _lstm_forecasts(forecaster, history, h)}
    for model in (baselines.Naive(), baselines.SeasonalNaive(season), baselines.Naive2(season)):
        forecasts[model.name] = baselines.forecast_panel(model, list(history.values), h)
    insample = list(history.values)
    scores = {name: (metrics.smape(actual, f), metrics.mase(actual, f, insample, season))
              for name, f in forecasts.items()}
    smape_n2, mase_n2 = scores["Naive2"]
    rows: dict[str, dict[str, float]] = {}
    for name, forecast in forecasts.items():
        smape, mase = scores[name]
        row = {"sMAPE": float(np.mean(smape)), "MASE": float(np.mean(mase)),
               "MAE": float(np.mean(metrics.mae(actual, forecast)))}
        try:
            row["OWA"] = metrics.owa(smape, mase, smape_n2, mase_n2)
        except ValueError:  # Naive2 is perfect on this tail: OWA is undefined
            row["OWA"] = float("nan")
        rows[name] = row
    return AccuracyTable(horizon=h, season=season, n_series=len(panel), rows=rows,
                         in_sample=_seen_in_fit(forecaster, holdout))


def _as_panel(forecaster: Any, data: Any) -> Any:
    from lstmlens.data import Panel, load_panel

    if isinstance(data, Panel):
        return data
    options = {name: getattr(forecaster, name)
               for name in ("id_col", "time_col", "target_col", "freq", "missing")
               if isinstance(getattr(forecaster, name, None), str)}
    return load_panel(data, **options)


def _default_season(freq: str | None) -> int:
    from lstmlens.presets import default_season

    return default_season(freq)


def _lstm_forecasts(forecaster: Any, history: Any, h: int) -> FloatArray:
    """The forecaster's forecasts from the end of ``history`` (a Panel), (n_series, h)."""
    predicted = forecaster.predict(h=h, data=history)
    id_col = getattr(forecaster, "id_col", "unique_id")
    groups = {str(key): group for key, group in predicted.groupby(id_col, sort=False)}
    rows = []
    for series_id in history.ids:
        if str(series_id) not in groups:
            raise ValueError(f"the forecaster returned no forecast for series {series_id!r}.")
        rows.append(np.asarray(groups[str(series_id)][MODEL_COLUMN], dtype=np.float64)[:h])
    return np.stack(rows)


def _seen_in_fit(forecaster: Any, holdout: Any) -> bool | None:
    """True if the forecaster was fitted on data that reaches into the held-out tail, False
    if not, None if it cannot tell (no dates kept)."""
    context = getattr(forecaster, "context_", None)
    ids = list(getattr(forecaster, "ids_", ()))
    times = getattr(context, "times", None)
    if times is None or not ids:
        return None
    seen = None
    for series_id, stamps in zip(holdout.ids, holdout.timestamps, strict=True):
        if series_id in ids and len(stamps):
            last_fitted = times[ids.index(series_id)][-1]
            try:
                inside = bool(stamps[0] <= last_fitted)
            except TypeError:  # dates against integer positions
                return None
            seen = bool(seen) or inside
    return seen
