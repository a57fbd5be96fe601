"""Training windows: cut series into (batch, time, features) arrays, scaled per window.

A *window* is everything one forecast looks at and aims for. Its *origin* ``t`` is the index
(inside its series) of the last observed value, so:

- the input holds ``y[t - L + 1] .. y[t]`` (``L = input_size``; the last value seen is
  ``y[t]``, always in the last step);
- horizon step ``k = 1 .. h`` targets ``y[t + k]``.

**Period folding.** The ``L`` input values are fed as ``T = L / S`` steps of ``S`` values each
(``S = step_length``): 168 hourly values become 7 daily steps of 24, so the LSTM runs 7
steps instead of 168 (faster, and each step sees a whole day). ``S = 1`` is the classic one
value per step. Optional covariates (calendar features) are appended to each step, taken at
the step's last time.

**Scaling.** Every window is divided by its own *level* ``ℓ`` (the mean absolute value of its
last season) and, optionally, log-transformed: ``x = log(y / ℓ)`` or ``x = y / ℓ``. One global
network then serves series of very different sizes.

**Targets.** The network predicts a *correction* on top of a *base* forecast in the same
scaled units: ``target_k = x(y[t + k]) - base_k``. The base is the seasonal-naive forecast
(``y[t + k - m ceil(k/m)]``, scaled), the naive one (``y[t]``), or the level itself
(``log 1 = 0``, or ``1`` without the log). The ``direct`` strategy predicts all ``h`` steps at
once; ``recursive`` predicts one step (``k = 1``) and is rolled forward by the forecaster.

Only NumPy here: the forecaster turns DataFrames into the flat arrays of :class:`FlatPanel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]
IntArray = NDArray[np.int64]
Strategy = Literal["direct", "recursive"]
Baseline = Literal["seasonal_naive", "naive", "level"]

__all__ = [
    "FlatPanel",
    "WindowBatch",
    "WindowSpec",
    "base_forecast",
    "build_windows",
    "fold_inputs",
    "scale",
    "split_origins",
    "unscale",
    "window_levels",
]


@dataclass(frozen=True)
class WindowSpec:
    """How windows are cut, folded, scaled and targeted.

    Attributes
    ----------
    input_size : int
        ``L``, the number of past values each forecast sees.
    step_length : int
        ``S``, values per LSTM step; must divide ``input_size``.
    horizon : int
        ``h``, the number of future values forecast.
    season : int
        ``m``, the period of the level (mean of the last ``m`` values) and of the
        seasonal-naive base; at most ``input_size``.
    strategy : {"direct", "recursive"}
        ``direct``: the network outputs all ``h`` steps; ``recursive``: one step.
    log : bool
        Log-transform after dividing by the level (needs positive values).
    baseline : {"seasonal_naive", "naive", "level"}
        What the network's output corrects (see the module docstring).
    n_covariates : int
        ``C``, covariates appended to every step.
    scale_by_level : bool
        Divide each window by its level; when False the level is 1 (no scaling).
    """

    input_size: int
    step_length: int
    horizon: int
    season: int = 1
    strategy: Strategy = "direct"
    log: bool = True
    baseline: Baseline = "seasonal_naive"
    n_covariates: int = 0
    scale_by_level: bool = True

    def __post_init__(self) -> None:
        for name in ("input_size", "step_length", "horizon", "season"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        if self.input_size % self.step_length:
            raise ValueError(
                f"step_length={self.step_length} must divide input_size={self.input_size} "
                "so the window folds into whole steps; choose e.g. input_size="
                f"{self.step_length * max(1, round(self.input_size / self.step_length))}."
            )
        if self.season > self.input_size:
            raise ValueError(
                f"season={self.season} is longer than input_size={self.input_size}; the window "
                "must hold one full season for the level and the seasonal-naive base. Raise "
                "input_size or lower season."
            )
        if self.strategy not in ("direct", "recursive"):
            raise ValueError(
                f"strategy must be 'direct' or 'recursive', got {self.strategy!r}."
            )
        if self.baseline not in ("seasonal_naive", "naive", "level"):
            raise ValueError(
                "baseline must be 'seasonal_naive', 'naive' or 'level', got "
                f"{self.baseline!r}."
            )
        if self.n_covariates < 0:
            raise ValueError(f"n_covariates must be >= 0, got {self.n_covariates!r}.")

    @property
    def steps(self) -> int:
        """``T = L / S``, the LSTM steps per window."""
        return self.input_size // self.step_length

    @property
    def input_features(self) -> int:
        """``I = S + C``, the features of every step."""
        return self.step_length + self.n_covariates

    @property
    def output_size(self) -> int:
        """``O``: ``h`` for the direct strategy, 1 for the recursive one."""
        return self.horizon if self.strategy == "direct" else 1


@dataclass(frozen=True)
class FlatPanel:
    """Many series stored end to end, so windows are gathered with one fancy index.

    Attributes
    ----------
    values : (total,) float64
        All series concatenated, oldest value first within each.
    covariates : (total, C) float
        Covariates aligned with ``values`` (``C`` may be 0).
    starts : (n_series,) int64
        Where each series begins in ``values``.
    lengths : (n_series,) int64
        How many values each series has.
    """

    values: FloatArray
    covariates: FloatArray
    starts: IntArray
    lengths: IntArray

    @classmethod
    def from_series(
        cls,
        series: Sequence[FloatArray],
        covariates: Sequence[FloatArray] | None = None,
    ) -> FlatPanel:
        """Concatenate 1-D series (and optional ``(n_i, C)`` covariates) into one panel."""
        if len(series) == 0:
            raise ValueError("series is empty; pass at least one 1-D array.")
        arrays = [np.asarray(y, dtype=np.float64) for y in series]
        lengths = np.array([y.size for y in arrays], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        if covariates is None:
            stacked = np.zeros((int(lengths.sum()), 0))
        else:
            if len(covariates) != len(arrays):
                raise ValueError(
                    f"covariates has {len(covariates)} entries for {len(arrays)} series; "
                    "pass one (n_i, C) array per series."
                )
            for i, (y, cov) in enumerate(zip(arrays, covariates, strict=True)):
                if np.ndim(cov) != 2 or len(cov) != y.size:
                    raise ValueError(
                        f"covariates of series {i} must have shape ({y.size}, C), got "
                        f"{np.shape(cov)}."
                    )
            stacked = np.concatenate([np.asarray(c, dtype=np.float64) for c in covariates])
        return cls(np.concatenate(arrays), stacked, starts, lengths)

    @property
    def n_series(self) -> int:
        """Number of series."""
        return int(self.lengths.size)

    def series(self, index: int) -> FloatArray:
        """The values of series ``index``."""
        start = int(self.starts[index])
        return self.values[start : start + int(self.lengths[index])]


@dataclass(frozen=True)
class WindowBatch:
    """Windows ready for the network, with what is needed to go back to original units.

    Attributes
    ----------
    inputs : (N, T, I)
        Scaled, folded network inputs.
    levels : (N,)
        Each window's level ``ℓ`` (original units).
    base : (N, O)
        The base forecast in scaled units; the network's output is added to it.
    targets : (N, O) or None
        ``x(y[t + k]) - base_k``; None when the future is not (yet) known.
    history : (N, L)
        The raw input values, original units.
    """

    inputs: FloatArray
    levels: FloatArray
    base: FloatArray
    targets: FloatArray | None
    history: FloatArray


# --- scaling -----------------------------------------------------------------------------------


def window_levels(history: FloatArray, season: int) -> FloatArray:
    """Level of each window: mean absolute value of its last ``season`` values.

    Falls back to the whole window's mean absolute value, then to 1, so an all-zero window
    does not divide by zero.

    Parameters
    ----------
    history : (N, L)
        Raw input windows.
    season : int
        How many trailing values set the level.

    Returns
    -------
    (N,) float64
    """
    last_season = np.abs(history[:, -season:]).mean(axis=1)
    whole = np.abs(history).mean(axis=1)
    level = np.where(last_season > 0.0, last_season, whole)
    return np.where(level > 0.0, level, 1.0)


def scale(values: FloatArray, levels: FloatArray, log: bool) -> FloatArray:
    """``log(y / ℓ)`` or ``y / ℓ``, row by row (``levels`` is (N,), ``values`` (N, ...))."""
    ratio = values / levels.reshape((-1,) + (1,) * (values.ndim - 1))
    return np.log(ratio) if log else ratio


def unscale(scaled: FloatArray, levels: FloatArray, log: bool) -> FloatArray:
    """Inverse of :func:`scale`: back to original units."""
    ratio = np.exp(scaled) if log else scaled
    return np.asarray(ratio * levels.reshape((-1,) + (1,) * (np.ndim(scaled) - 1)))


def base_forecast(scaled_history: FloatArray, spec: WindowSpec) -> FloatArray:
    """The base forecast the network corrects, in scaled units, shape (N, O).

    Seasonal naive: step ``k`` repeats the value one season before it, i.e. window position
    ``L - m + ((k - 1) mod m)``.
    """
    n_windows, length = scaled_history.shape
    steps = np.arange(spec.output_size)
    if spec.baseline == "seasonal_naive":
        return scaled_history[:, length - spec.season + steps % spec.season]
    if spec.baseline == "naive":
        return np.repeat(scaled_history[:, -1:], spec.output_size, axis=1)
    neutral = 0.0 if spec.log else 1.0  # the level itself: log(ℓ/ℓ) = 0, ℓ/ℓ = 1
    return np.full((n_windows, spec.output_size), neutral, dtype=scaled_history.dtype)


# --- folding -----------------------------------------------------------------------------------


def fold_inputs(
    scaled_history: FloatArray, step_covariates: FloatArray, spec: WindowSpec
) -> FloatArray:
    """Fold (N, L) scaled values into (N, T, S) steps and append (N, T, C) covariates."""
    n_windows = scaled_history.shape[0]
    folded = scaled_history.reshape(n_windows, spec.steps, spec.step_length)  # (N, T, S)
    if spec.n_covariates == 0:
        return folded
    return np.concatenate([folded, step_covariates], axis=2)  # (N, T, S + C)


def build_windows(
    panel: FlatPanel,
    series_index: IntArray,
    origins: IntArray,
    spec: WindowSpec,
    *,
    with_targets: bool = True,
    dtype: type[np.floating] | np.dtype[np.floating] = np.float32,
) -> WindowBatch:
    """Gather, scale and fold the windows ending at ``origins`` of the given series.

    Parameters
    ----------
    panel : FlatPanel
        The series.
    series_index, origins : (N,) int
        Window ``j`` ends at value ``origins[j]`` (0-based, inclusive) of series
        ``series_index[j]``.
    spec : WindowSpec
        How to cut and scale.
    with_targets : bool
        Also gather targets; every origin then needs ``origin + O`` values in its series.
    dtype : float32 or float64
        Precision of ``inputs``, ``base`` and ``targets``.

    Returns
    -------
    WindowBatch
    """
    series_index = np.asarray(series_index, dtype=np.int64)
    origins = np.asarray(origins, dtype=np.int64)
    _check_origins(panel, series_index, origins, spec, with_targets)
    first = panel.starts[series_index] + origins - (spec.input_size - 1)  # (N,)
    positions = first[:, None] + np.arange(spec.input_size)  # (N, L)
    history = panel.values[positions]
    levels = (
        window_levels(history, spec.season) if spec.scale_by_level else np.ones(len(history))
    )
    scaled_history = scale(history, levels, spec.log)
    # A step's covariates are those of its last time: position S - 1 of every step.
    step_ends = positions[:, spec.step_length - 1 :: spec.step_length]  # (N, T)
    inputs = fold_inputs(scaled_history, panel.covariates[step_ends], spec)
    base = base_forecast(scaled_history, spec)
    targets = None
    if with_targets:
        future = panel.values[(positions[:, -1] + 1)[:, None] + np.arange(spec.output_size)]
        targets = (scale(future, levels, spec.log) - base).astype(dtype)
    return WindowBatch(
        inputs=inputs.astype(dtype),
        levels=levels,
        base=base.astype(dtype),
        targets=targets,
        history=history,
    )


def _check_origins(
    panel: FlatPanel,
    series_index: IntArray,
    origins: IntArray,
    spec: WindowSpec,
    with_targets: bool,
) -> None:
    """Raise if a window would reach before its series' start or after its end."""
    if series_index.shape != origins.shape or series_index.ndim != 1:
        raise ValueError(
            f"series_index and origins must be 1-D of one length, got {series_index.shape} "
            f"and {origins.shape}."
        )
    if series_index.size == 0:
        raise ValueError("no windows requested; series_index and origins are empty.")
    if series_index.min() < 0 or series_index.max() >= panel.n_series:
        raise ValueError(f"series_index must be in [0, {panel.n_series}).")
    lengths = panel.lengths[series_index]
    ahead = spec.output_size if with_targets else 0
    bad = (origins < spec.input_size - 1) | (origins + ahead >= lengths)
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(
            f"window {j} (series {series_index[j]}, origin {origins[j]}) does not fit: it "
            f"needs origin >= input_size - 1 = {spec.input_size - 1} and origin + {ahead} < "
            f"the series length {lengths[j]}."
        )


# --- splitting ---------------------------------------------------------------------------------


def split_origins(
    lengths: IntArray,
    spec: WindowSpec,
    validation_windows: int,
    *,
    max_train_windows: int | None = None,
) -> tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]]:
    """All training and validation windows of every series, split by time.

    The last ``validation_windows`` origins of each series (one apart, the last ending at the
    series' last value) are for validation. Training windows are those whose targets all
    come before the first validation target, so no value a validation window is scored on
    was ever a training target.

    Parameters
    ----------
    lengths : (n_series,) int
        Length of every series.
    spec : WindowSpec
        Sets ``L`` and ``h``.
    validation_windows : int
        Origins per series held out (0 for none).
    max_train_windows : int, optional
        Keep only the most recent this many training origins of each series.

    Returns
    -------
    (train_series, train_origins), (validation_series, validation_origins)
        Each a pair of (N,) int64 arrays; series with too few values contribute nothing.
    """
    horizon = spec.horizon  # validation always scores the whole horizon
    lowest = spec.input_size - 1
    train: list[tuple[int, int, int]] = []
    validation: list[tuple[int, int, int]] = []
    for i, length in enumerate(np.asarray(lengths, dtype=np.int64)):
        last_origin = int(length) - horizon - 1
        first_validation = last_origin - validation_windows + 1
        if validation_windows > 0 and first_validation >= lowest:
            validation.append((i, first_validation, last_origin + 1))
            # targets of a training origin o end at o + O; keep them before the first
            # validation target, first_validation + 1.
            last_train = first_validation - spec.output_size
        else:
            last_train = int(length) - spec.output_size - 1
        first_train = lowest
        if max_train_windows is not None:
            first_train = max(lowest, last_train - max_train_windows + 1)
        if last_train >= first_train:
            train.append((i, first_train, last_train + 1))
    return _expand(train), _expand(validation)


def _expand(ranges: list[tuple[int, int, int]]) -> tuple[IntArray, IntArray]:
    """Turn (series, first, stop) ranges into flat (series, origin) arrays."""
    if not ranges:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    series = np.concatenate([np.full(stop - first, i) for i, first, stop in ranges])
    origins = np.concatenate([np.arange(first, stop) for _, first, stop in ranges])
    return series.astype(np.int64), origins.astype(np.int64)
