"""Helpers of :meth:`LSTMForecaster.fit`: training the members, calibration, summaries."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import numpy as np

from lstmlens import compile_ahead, kernels, serving, settings
from lstmlens.data import Panel
from lstmlens.intervals import ConformalIntervals
from lstmlens.network import LSTMNetwork
from lstmlens.progress import TrainingProgress
from lstmlens.settings import listing
from lstmlens.training import TrainingResult, train_in_processes, train_network
from lstmlens.windows import FlatPanel, IntArray, WindowSpec

__all__ = ["calibrate", "panel_summary", "result_summary", "train_members", "warn_constant"]


def calibrate(
    networks: list[LSTMNetwork],
    flat: FlatPanel,
    spec: WindowSpec,
    validation: tuple[IntArray, IntArray],
) -> ConformalIntervals | None:
    """Conformal intervals from the validation windows' errors relative to their level.

    Validation windows are never trained on (also with early stopping off), so their errors
    are honest calibration data.

    Parameters
    ----------
    networks : list of LSTMNetwork
        The trained ensemble.
    flat : FlatPanel
        The training series, flattened.
    spec : WindowSpec
        The window settings.
    validation : (series, origins)
        The validation windows.

    Returns
    -------
    ConformalIntervals or None
        None without validation windows.
    """
    series, origins = validation
    if series.size == 0:
        return None
    forecast, levels = serving.forecast_windows(networks, flat, series, origins, spec)
    positions = (flat.starts[series] + origins)[:, None] + np.arange(1, spec.horizon + 1)
    return ConformalIntervals().fit((flat.values[positions] - forecast) / levels[:, None])


def warn_constant(panel: Panel) -> None:
    """Warn (``UserWarning``) about constant series, pointing at the caller of ``fit``.

    Parameters
    ----------
    panel : Panel
        The training series.
    """
    constant = panel.constant_ids()
    if constant:
        warnings.warn(
            f"series {listing(list(constant))} are constant; the model can only learn to "
            "repeat their value. Remove them if that is not intended.",
            UserWarning,
            stacklevel=3,
        )


def result_summary(result: TrainingResult) -> dict[str, Any]:
    """The JSON-friendly summary of one member's training (an entry of ``training_``).

    Parameters
    ----------
    result : TrainingResult
        One member's training result.

    Returns
    -------
    dict
        Steps, best step, validation loss, seconds, early stop and loss curves.
    """
    return {
        "steps": result.steps,
        "best_step": result.best_step,
        "best_validation_loss": result.best_validation_loss,
        "seconds": round(result.seconds, 3),
        "stopped_early": result.stopped_early,
        "loss_curve": [float(x) for x in result.loss_curve],
        "validation_curve": [float(x) for x in result.validation_curve],
    }


def panel_summary(panel: Panel) -> dict[str, Any]:
    """Number of series, lengths and time span of the training data (``training_summary_``).

    Parameters
    ----------
    panel : Panel
        The training series.

    Returns
    -------
    dict
    """
    lengths = panel.lengths()
    return {
        "n_series": len(panel),
        "n_observations": int(lengths.sum()),
        "min_length": int(lengths.min()),
        "max_length": int(lengths.max()),
        "first_timestamp": str(min(t[0] for t in panel.timestamps)),
        "last_timestamp": str(max(t[-1] for t in panel.timestamps)),
        "freq": panel.freq,
    }


def _say(message: str) -> None:
    """One line to the user on stderr, where the progress bar also goes."""
    print(message, file=sys.stderr, flush=True)


def train_members(
    flat: FlatPanel,
    spec: WindowSpec,
    train: tuple[IntArray, IntArray],
    validation: tuple[IntArray, IntArray],
    members: int,
    *,
    params: dict[str, Any],
    n_jobs: int,
    early_stopping: bool,
    random_state: int | None,
    progress: bool,
) -> list[TrainingResult]:
    """Train the ensemble members, in processes when more than one worker is allowed.

    Parameters
    ----------
    flat : FlatPanel
        The training series, flattened.
    spec : WindowSpec
        The window settings.
    train, validation : (series, origins)
        The training and validation windows.
    members : int
        Ensemble size.
    params : dict
        The estimator's parameters (for :func:`lstmlens.settings.training_config`).
    n_jobs : int
        Processes at once (-1: one per CPU).
    early_stopping : bool
        Check the validation windows while training.
    random_state : int or None
        Seed; each member gets its own child generator.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of TrainingResult
        One per member, in member order.
    """
    workers = min(members, n_jobs if n_jobs > 0 else os.cpu_count() or 1)
    config = settings.training_config(params, train[0].size, members, workers)
    checked = validation if early_stopping else (validation[0][:0], validation[1][:0])
    # One child generator per member: members differ, and each is reproducible alone.
    rngs = np.random.default_rng(random_state).spawn(members)
    results: list[TrainingResult] = []
    if not kernels.compiled_on_disk():
        # The forecasting kernels compile in a helper process while this one compiles the
        # training kernels (see lstmlens.compile_ahead).
        compile_ahead.start(config.dtype)
        if progress:
            _say("Compiling the LSTM kernels for this CPU: once after installing, one to "
                 "three minutes.")
    with TrainingProgress(progress, config.max_steps, members) as bar:
        if workers > 1:
            return train_in_processes(
                flat, spec, train, checked, config, rngs, workers, bar.member_done
            )
        for member, rng in enumerate(rngs):
            bar.start_member(member, sum(r.steps for r in results))
            results.append(
                train_network(flat, spec, train, checked, config, rng, bar.on_step)
            )
    return results
