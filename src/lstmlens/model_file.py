"""A fitted forecaster's state, and how it goes to and from one ``.lstmlens`` file.

The file (see :mod:`lstmlens.io`) holds tensors and JSON metadata:

- ``member{k}.{name}``: every ensemble member's parameters, PyTorch names;
- ``context.values`` (n, L) float64, ``context.covariates`` (n, L, K) float64 and
  ``context.times`` (n, L) int64: the end of every series, so predicting, streaming and
  explaining need no data after loading;
- ``intervals.abs_residuals`` (windows, h) float64: the conformal calibration errors;
- metadata: the estimator's parameters, the resolved window settings, ids, frequency,
  covariate standardisation, feature names, training summary and library version.

On load, every tensor's name, shape and dtype is checked against the metadata.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmlens.intervals import ConformalIntervals
from lstmlens.io import ModelFileError, load_model_file, save_model_file, validate_tensors
from lstmlens.network import LSTMNetwork, parameter_shapes
from lstmlens.serving import Context
from lstmlens.settings import CovariatePlan
from lstmlens.windows import WindowSpec

__all__ = ["ESTIMATOR", "FittedState", "read_model", "write_model"]

ESTIMATOR = "LSTMForecaster"


@dataclass(frozen=True)
class FittedState:
    """Everything a fitted forecaster learned or keeps (its ``_``-suffixed attributes)."""

    spec: WindowSpec
    freq: str | None
    ids: tuple[str, ...]
    covariates: CovariatePlan
    feature_names: tuple[str, ...]
    networks: list[LSTMNetwork]
    intervals: ConformalIntervals | None
    context: Context
    training: list[dict[str, Any]]
    training_summary: dict[str, Any]


def write_model(
    path: str | os.PathLike[str],
    params: Mapping[str, Any],
    state: FittedState,
    overwrite: bool = False,
) -> None:
    """Save ``state`` and the estimator's ``params`` to one file, atomically."""
    tensors: dict[str, np.ndarray] = {}
    for k, network in enumerate(state.networks):
        for name, value in network.parameters.items():
            tensors[f"member{k}.{name}"] = np.asarray(value)
    tensors["context.values"] = state.context.values
    tensors["context.covariates"] = state.context.covariates
    tensors["context.times"] = _times_to_int(state.context.times)
    if state.intervals is not None:
        tensors["intervals.abs_residuals"] = state.intervals.abs_residuals_
    metadata = {
        "estimator": ESTIMATOR,
        "params": dict(params),
        "fitted": _fitted_metadata(state),
        "training": state.training,
        "training_summary": state.training_summary,
    }
    save_model_file(path, tensors, metadata, overwrite=overwrite)


def _fitted_metadata(state: FittedState) -> dict[str, Any]:
    network = state.networks[0]
    times = state.context.times
    zone = getattr(times[0], "tz", None)
    return {
        "spec": dataclasses.asdict(state.spec),
        "freq": state.freq,
        "ids": list(state.ids),
        "ensemble_size": len(state.networks),
        "hidden_size": network.hidden_size,
        "num_layers": network.num_layers,
        "dtype": str(network.dtype),
        "calendar": state.covariates.calendar,
        "calendar_names": list(state.covariates.calendar_names),
        "covariate_names": list(state.covariates.user_names),
        "covariate_mean": state.covariates.user_mean.tolist(),
        "covariate_scale": state.covariates.user_scale.tolist(),
        "feature_names": list(state.feature_names),
        "time_unit": str(times[0].unit) if isinstance(times[0], pd.DatetimeIndex) else None,
        "time_zone": None if zone is None else str(zone),
    }


def read_model(path: str | os.PathLike[str]) -> tuple[dict[str, Any], FittedState]:
    """Load the estimator's parameters and fitted state from a file.

    Raises
    ------
    ModelFileError
        If the file is missing, damaged, holds another estimator, or its tensors do not
        match its metadata.
    """
    tensors, metadata = load_model_file(path)
    if metadata.get("estimator") != ESTIMATOR:
        raise ModelFileError(
            f"{path} holds a {metadata.get('estimator')!r}, not an {ESTIMATOR}; load it with "
            "the class that saved it."
        )
    try:
        fitted = metadata["fitted"]
        params = dict(metadata["params"])
        spec = WindowSpec(**fitted["spec"])
        ids = tuple(str(i) for i in fitted["ids"])
        validate_tensors(tensors, _expected_tensors(fitted, spec, len(ids), tensors), source=path)
        state = _state(tensors, metadata, spec, ids)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(
            f"{path} has damaged model metadata ({error!r}); save the model again."
        ) from error
    return params, state


def _state(
    tensors: Mapping[str, np.ndarray],
    metadata: Mapping[str, Any],
    spec: WindowSpec,
    ids: tuple[str, ...],
) -> FittedState:
    fitted = metadata["fitted"]
    names = parameter_shapes(
        spec.input_features, fitted["hidden_size"], fitted["num_layers"], spec.output_size
    )
    networks = [
        LSTMNetwork({name: tensors[f"member{k}.{name}"] for name in names})
        for k in range(int(fitted["ensemble_size"]))
    ]
    intervals = None
    if "intervals.abs_residuals" in tensors:
        intervals = ConformalIntervals().fit(tensors["intervals.abs_residuals"])
    times = _times_from_int(
        tensors["context.times"], fitted["time_unit"], fitted["time_zone"], fitted["freq"]
    )
    covariates = CovariatePlan(
        calendar=bool(fitted["calendar"]),
        calendar_names=tuple(fitted["calendar_names"]),
        user_names=tuple(fitted["covariate_names"]),
        user_mean=np.asarray(fitted["covariate_mean"], dtype=np.float64),
        user_scale=np.asarray(fitted["covariate_scale"], dtype=np.float64),
    )
    context = Context(
        np.array(tensors["context.values"]), times, np.array(tensors["context.covariates"])
    )
    return FittedState(
        spec=spec,
        freq=fitted["freq"],
        ids=ids,
        covariates=covariates,
        feature_names=tuple(fitted["feature_names"]),
        networks=networks,
        intervals=intervals,
        context=context,
        training=list(metadata.get("training", [])),
        training_summary=dict(metadata.get("training_summary", {})),
    )


def _expected_tensors(
    fitted: Mapping[str, Any], spec: WindowSpec, n_series: int, tensors: Mapping[str, Any]
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Names, shapes and dtypes the file must hold, given its metadata."""
    dtype = str(fitted["dtype"])
    shapes = parameter_shapes(
        spec.input_features, int(fitted["hidden_size"]), int(fitted["num_layers"]),
        spec.output_size,
    )
    expected = {
        f"member{k}.{name}": (shape, dtype)
        for k in range(int(fitted["ensemble_size"]))
        for name, shape in shapes.items()
    }
    n_user = len(fitted["covariate_names"])
    expected["context.values"] = ((n_series, spec.input_size), "float64")
    expected["context.covariates"] = ((n_series, spec.input_size, n_user), "float64")
    expected["context.times"] = ((n_series, spec.input_size), "int64")
    if "intervals.abs_residuals" in tensors:
        rows = int(np.shape(tensors["intervals.abs_residuals"])[0])
        expected["intervals.abs_residuals"] = ((rows, spec.horizon), "float64")
    return expected


# --- timestamps as integers --------------------------------------------------------------------


def _times_to_int(times: tuple[pd.Index, ...]) -> np.ndarray:
    """Timestamps as int64: ticks of the index's unit since the epoch (UTC), or positions."""
    if isinstance(times[0], pd.DatetimeIndex):
        return np.stack([pd.DatetimeIndex(t).asi8 for t in times])
    return np.stack([np.asarray(t, dtype=np.int64) for t in times])


def _times_from_int(
    stored: np.ndarray, unit: str | None, zone: str | None, freq: str | None
) -> tuple[pd.Index, ...]:
    """Inverse of :func:`_times_to_int`, with the same unit, time zone and frequency."""
    if unit is None:
        return tuple(_integer_index(row) for row in stored)
    result = []
    for row in stored:
        index = pd.DatetimeIndex(row.astype(f"datetime64[{unit}]"))
        if zone is not None:
            index = index.tz_localize("UTC").tz_convert(zone)
        if freq is not None:
            index = pd.DatetimeIndex(index, freq=freq)
        result.append(index)
    return tuple(result)


def _integer_index(row: np.ndarray) -> pd.Index:
    step = int(row[1] - row[0]) if row.size > 1 else 1
    if row.size > 1 and step > 0 and np.all(np.diff(row) == step):
        return pd.RangeIndex(int(row[0]), int(row[-1]) + step, step)
    return pd.Index(row.astype(np.int64))
