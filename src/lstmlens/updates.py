"""Parsing and checking new observations for :meth:`LSTMForecaster.update` (streaming).

New observations must continue known series right after their last timestamp, without
gaps or missing values (and be positive when the model works on log values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lstmlens import data as data_module
from lstmlens.data import DataError
from lstmlens.serving import Context
from lstmlens.settings import CovariatePlan, listing
from lstmlens.windows import FloatArray

__all__ = ["Additions", "append_observations", "check_continues", "known_index", "parse_update"]

#: ``{series_id: (values, timestamps, covariates)}`` of new observations.
Additions = dict[str, tuple[FloatArray, pd.Index, FloatArray]]


def known_index(ids: tuple[str, ...], sid: str) -> int:
    """Position of the series ``sid`` among ``ids``.

    Parameters
    ----------
    ids : tuple of str
        The series the model knows.
    sid : str
        The series asked for.

    Returns
    -------
    int

    Raises
    ------
    DataError
        If ``sid`` is not one of ``ids``.
    """
    if sid not in ids:
        raise DataError(
            f"unknown series id {sid!r}; the model knows {listing(list(ids))}. "
            "Check the spelling, or refit to add new series."
        )
    return ids.index(sid)


def check_continues(
    sid: str,
    values: FloatArray,
    stamps: pd.Index,
    *,
    ids: tuple[str, ...],
    context: Context,
    freq: str | None,
    log: bool,
) -> None:
    """Check that new observations continue series ``sid`` right after its context.

    Parameters
    ----------
    sid : str
        The series.
    values : (n,)
        The new values.
    stamps : pandas.Index
        Their timestamps.
    ids : tuple of str
        The series the model knows.
    context : Context
        The model's current context of every series.
    freq : str or None
        The data's frequency.
    log : bool
        Whether the model works on log values (then values must be positive).

    Raises
    ------
    DataError
        For a gap, missing values, or non-positive values with the log transform.
    """
    last = context.times[ids.index(sid)]
    expected = data_module.future_timestamps(last, freq, len(stamps))
    if not expected.equals(pd.Index(stamps)):
        raise DataError(
            f"series {sid!r}: new observations must continue right after its last "
            f"timestamp {last[-1]}, i.e. start at {expected[0]} without gaps; got "
            f"{stamps[0]}..{stamps[-1]}."
        )
    if not np.all(np.isfinite(values)):
        raise DataError(f"series {sid!r}: new observations contain missing values.")
    if log and np.any(values <= 0.0):
        raise DataError(
            f"series {sid!r}: the model works on log values, but a new observation is "
            f"<= 0 ({values[values <= 0.0][0]}); refit with log=False for such data."
        )


def parse_update(
    new: Any,
    *,
    ids: tuple[str, ...],
    context: Context,
    covariates: CovariatePlan,
    freq: str | None,
    log: bool,
    id_col: str,
    time_col: str,
    target_col: str,
) -> Additions:
    """``{series_id: (values, timestamps, covariates)}`` of the new observations.

    Parameters
    ----------
    new : DataFrame or mapping
        Long-format rows continuing known series, or ``{series_id: value(s)}``.
    ids : tuple of str
        The series the model knows.
    context : Context
        The model's current context of every series.
    covariates : CovariatePlan
        The fitted covariate plan (user covariates must be passed as columns).
    freq : str or None
        The data's frequency.
    log : bool
        Whether the model works on log values.
    id_col, time_col, target_col : str
        Column names of the long format.

    Returns
    -------
    dict
        ``{series_id: (values, timestamps, covariates)}``.

    Raises
    ------
    DataError
        For unknown series, other covariates, or observations that do not continue a series.
    """
    user = covariates.user_names
    parsed: Additions = {}
    if isinstance(new, Mapping):
        if user:
            raise ValueError(
                f"this model uses the covariates {list(user)}; pass new observations as "
                "a DataFrame with those columns, not a mapping."
            )
        for sid, value in new.items():
            i = known_index(ids, str(sid))
            values = np.atleast_1d(np.asarray(value, dtype=np.float64))
            stamps = data_module.future_timestamps(context.times[i], freq, values.size)
            parsed[str(sid)] = (values, stamps, np.zeros((values.size, 0)))
    else:
        panel = data_module.load_panel(
            new, id_col=id_col, time_col=time_col, target_col=target_col,
            freq=freq, missing="error",
        )
        if (tuple(panel.covariate_names) if panel.covariates is not None else ()) != user:
            raise DataError(
                f"new observations have covariates {list(panel.covariate_names)} but the "
                f"model was fitted with {list(user)}; pass the same columns."
            )
        for k, sid in enumerate(panel.ids):
            known_index(ids, sid)
            n = panel.values[k].size
            cov = panel.covariates[k] if panel.covariates is not None else np.zeros((n, 0))
            parsed[sid] = (panel.values[k], panel.timestamps[k], cov)
    for sid, (appended, stamps, _) in parsed.items():
        check_continues(sid, appended, stamps, ids=ids, context=context, freq=freq, log=log)
    return parsed


def append_observations(
    context: Context, ids: tuple[str, ...], additions: Additions, length: int
) -> Context:
    """A new context with ``additions`` appended, keeping the last ``length`` values.

    Parameters
    ----------
    context : Context
        The current context of every series (not changed).
    ids : tuple of str
        The series the model knows, in the order of ``context``.
    additions : dict
        ``{series_id: (values, timestamps, covariates)}`` from :func:`parse_update`.
    length : int
        Values kept per series (the model's ``input_size``).

    Returns
    -------
    Context
    """
    values = context.values.copy()
    times = list(context.times)
    covariates = context.covariates.copy()
    for sid, (new_values, new_times, new_covariates) in additions.items():
        i = ids.index(sid)
        values[i] = np.concatenate([values[i], new_values])[-length:]
        times[i] = times[i].append(new_times)[-length:]
        covariates[i] = np.concatenate([covariates[i], new_covariates])[-length:]
    return Context(values, tuple(times), covariates)
