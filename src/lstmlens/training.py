"""The training loop of one network: minibatches of windows, Adam, schedule, early stopping.

Kept apart from :mod:`lstmlens.forecaster` so the estimator reads as orchestration and this
file as the optimisation: sample windows -> forward -> loss -> backward -> clip -> Adam,
with a validation check every ``eval_every`` steps that remembers the best weights.
No pandas here.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from lstmlens import losses
from lstmlens.network import LSTMNetwork
from lstmlens.optim import Adam, clip_gradients
from lstmlens.windows import FlatPanel, FloatArray, IntArray, WindowBatch, WindowSpec, build_windows

Schedule = Literal["cosine", "constant"]
#: Called after every optimiser step with (steps done, steps planned or None, batch loss).
ProgressCallback = Callable[[int, int | None, float], None]

__all__ = [
    "TrainingConfig",
    "TrainingResult",
    "compile_training_kernels",
    "network_forecast",
    "train_in_processes",
    "train_network",
    "window_loss",
]


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of one training run (already validated by the forecaster).

    Attributes
    ----------
    hidden_size, num_layers : int
        Size of the LSTM.
    loss : str
        A key of :data:`lstmlens.losses.LOSSES`.
    learning_rate : float
        Adam's peak learning rate.
    schedule : {"cosine", "constant"}
        ``cosine`` decays the rate from its peak to 0 over the run (after a short warm-up).
    max_steps : int or None
        Optimiser steps; None means "until ``time_budget``".
    time_budget : float or None
        Wall-clock seconds for this run; the schedule then follows elapsed time.
    batch_size : int
        Windows per step.
    gradient_clip : float or None
        Global norm limit of the gradients.
    eval_every : int
        Steps between validation checks.
    patience : int or None
        Stop after this many checks without improvement (None: never stop early).
    dtype : str
        ``"float32"`` or ``"float64"``.
    forget_bias : float
        Initial forget-gate bias (keeps the long-term memory at the start).
    """

    hidden_size: int
    num_layers: int
    loss: str
    learning_rate: float
    schedule: Schedule
    max_steps: int | None
    time_budget: float | None
    batch_size: int
    gradient_clip: float | None
    eval_every: int
    patience: int | None
    dtype: str
    forget_bias: float = 1.0


@dataclass
class TrainingResult:
    """What one run produced.

    Attributes
    ----------
    network : LSTMNetwork
        Holding the best weights seen (lowest validation loss), or the last ones when there
        was no validation.
    steps : int
        Optimiser steps taken.
    best_step : int
        Step whose weights were kept.
    best_validation_loss : float or None
        Validation loss of those weights.
    loss_curve : list of float
        Mean training loss over each ``eval_every`` block.
    validation_curve : list of float
        Validation loss at each check.
    seconds : float
        Wall-clock time of the run.
    stopped_early : bool
        True if ``patience`` ended the run.
    """

    network: LSTMNetwork
    steps: int = 0
    best_step: int = 0
    best_validation_loss: float | None = None
    loss_curve: list[float] = field(default_factory=list)
    validation_curve: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False


# --- loss in the network's units ---------------------------------------------------------------


def window_loss(
    loss_name: str, output: FloatArray, batch: WindowBatch, spec: WindowSpec
) -> tuple[float, FloatArray]:
    """Loss of the network's ``output`` (N, O) on a batch, and its gradient.

    Most losses compare the output with ``batch.targets`` directly (both corrections in
    scaled units). ``smape`` first maps both back to level-relative values
    (``exp(base + x)`` or ``base + x``), because sMAPE is defined on positive values, and
    chains the gradient through that map.
    """
    if batch.targets is None:
        raise ValueError("this batch has no targets; build it with with_targets=True.")
    function = losses.LOSSES[loss_name]
    if loss_name != "smape":
        return function(output, batch.targets)
    predicted = batch.base + output
    actual = batch.base + batch.targets
    if spec.log:
        predicted, actual = np.exp(predicted), np.exp(actual)
    value, grad = function(predicted, actual)
    if spec.log:
        grad = grad * predicted  # d exp(u)/du = exp(u)
    return value, grad


# --- schedule ----------------------------------------------------------------------------------


def learning_rate_at(config: TrainingConfig, progress: float) -> float:
    """Learning rate at ``progress`` in [0, 1] of the run.

    A linear warm-up over the first 2% avoids Adam's large first steps on a fresh network;
    then the cosine schedule decays to 0, which gives the lowest final loss for a fixed
    budget (the last weights are usually the best).
    """
    warmup = 0.02
    if progress < warmup:
        return config.learning_rate * (0.1 + 0.9 * progress / warmup)
    if config.schedule == "constant":
        return config.learning_rate
    remaining = (progress - warmup) / (1.0 - warmup)
    return config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * min(remaining, 1.0)))


# --- the loop ----------------------------------------------------------------------------------


def train_network(
    panel: FlatPanel,
    spec: WindowSpec,
    train: tuple[IntArray, IntArray],
    validation: tuple[IntArray, IntArray],
    config: TrainingConfig,
    rng: np.random.Generator,
    on_step: ProgressCallback | None = None,
) -> TrainingResult:
    """Train one network on the training windows; keep the weights best on validation.

    Parameters
    ----------
    panel : FlatPanel
        The series.
    spec : WindowSpec
        How windows are built.
    train, validation : (series_index, origins)
        Windows to learn from and to check on; validation may be empty.
    config : TrainingConfig
        The run's settings.
    rng : numpy.random.Generator
        The only source of randomness (initial weights and minibatches).
    on_step : callable, optional
        Progress callback.

    Returns
    -------
    TrainingResult
    """
    started = time.perf_counter()
    network = LSTMNetwork.initialize(
        spec.input_features,
        config.hidden_size,
        config.num_layers,
        spec.output_size,
        dtype=config.dtype,
        random_state=rng,
        forget_bias=config.forget_bias,
    )
    optimizer = Adam(network, lr=config.learning_rate)
    dtype = network.dtype.type
    checks = _Validation(panel, spec, validation, config, dtype)
    weights = _Weights(network)
    result = TrainingResult(network=network)
    block_losses: list[float] = []
    n_train = train[0].size
    step = 0
    while not _finished(config, step, time.perf_counter() - started):
        progress = _progress(config, step, time.perf_counter() - started)
        optimizer.lr = learning_rate_at(config, progress)
        picked = rng.integers(0, n_train, size=config.batch_size)
        batch = build_windows(panel, train[0][picked], train[1][picked], spec, dtype=dtype)
        forward = network.forward(batch.inputs, keep_for_backward=True)
        loss, grad_output = window_loss(config.loss, forward.output, batch, spec)
        gradients = network.backward(forward, grad_output)
        if config.gradient_clip is not None:
            clip_gradients(gradients, config.gradient_clip)
        optimizer.step(gradients)
        step += 1
        block_losses.append(loss)
        if on_step is not None:
            on_step(step, config.max_steps, loss)
        if step % config.eval_every == 0:
            result.loss_curve.append(float(np.mean(block_losses)))
            block_losses.clear()
            if checks.enabled and _check(checks, weights, result, step, config):
                result.stopped_early = True
                break
    if not checks.enabled:
        weights.remember()
        result.best_step = step
    elif not result.validation_curve or step % config.eval_every:
        _check(checks, weights, result, step, config)  # score the final weights too
    weights.restore_best()
    result.steps = step
    result.seconds = time.perf_counter() - started
    return result


class _Weights:
    """The network's live weights and a copy of the best ones seen so far."""

    def __init__(self, network: LSTMNetwork) -> None:
        self.network = network
        self.best = network.flat_parameters.copy()

    def remember(self) -> None:
        self.best[...] = self.network.flat_parameters

    def restore_best(self) -> None:
        _assign(self.network, self.best)


def _assign(network: LSTMNetwork, values: FloatArray) -> None:
    """Copy ``values`` into the network's parameters (and tell caches they changed)."""
    network.flat_parameters[...] = values
    network.version += 1


class _Validation:
    """The validation windows, built once, and their loss for a network."""

    def __init__(
        self,
        panel: FlatPanel,
        spec: WindowSpec,
        validation: tuple[IntArray, IntArray],
        config: TrainingConfig,
        dtype: type[np.floating],
    ) -> None:
        self.enabled = validation[0].size > 0
        self.spec = spec
        self.loss = config.loss
        self.batch = (
            build_windows(panel, validation[0], validation[1], spec, dtype=dtype)
            if self.enabled
            else None
        )

    def score(self, network: LSTMNetwork) -> float:
        assert self.batch is not None
        output = network_forecast(network, self.batch.inputs)
        return window_loss(self.loss, output, self.batch, self.spec)[0]


def _check(
    checks: _Validation,
    weights: _Weights,
    result: TrainingResult,
    step: int,
    config: TrainingConfig,
) -> bool:
    """Score the current weights, remember them if best; True when patience has run out."""
    score = checks.score(weights.network)
    result.validation_curve.append(score)
    if result.best_validation_loss is None or score < result.best_validation_loss:
        result.best_validation_loss = score
        result.best_step = step
        weights.remember()
    if config.patience is None:
        return False
    checks_since_best = (step - result.best_step) // config.eval_every
    return checks_since_best >= config.patience


def _progress(config: TrainingConfig, step: int, elapsed: float) -> float:
    """Fraction of the run done, by steps or by time, whichever is further along."""
    by_steps = step / config.max_steps if config.max_steps else 0.0
    by_time = elapsed / config.time_budget if config.time_budget else 0.0
    return min(1.0, max(by_steps, by_time))


def _finished(config: TrainingConfig, step: int, elapsed: float) -> bool:
    if config.max_steps is not None and step >= config.max_steps:
        return True
    return config.time_budget is not None and elapsed >= config.time_budget and step > 0


def network_forecast(network: LSTMNetwork, inputs: FloatArray, chunk: int = 4096) -> FloatArray:
    """The network's output for many windows, in chunks to bound memory, shape (N, O)."""
    parts = [
        network.forward(inputs[start : start + chunk]).output
        for start in range(0, inputs.shape[0], chunk)
    ]
    return np.concatenate(parts, axis=0)


# --- several members at once -------------------------------------------------------------------

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMBA_NUM_THREADS")


def compile_training_kernels(dtype: str | type[np.floating]) -> None:
    """Compile (or load from Numba's disk cache) what a one-thread training step runs.

    Worker processes load the kernels from the cache; without this, each of them would
    compile the same kernels at the same time on a first run (tens of seconds each).
    """
    network = LSTMNetwork.initialize(1, 17, dtype=dtype, random_state=0)  # 2 tiles of units
    result = network.forward(np.zeros((1, 2, 1), dtype=network.dtype), keep_for_backward=True)
    gradients = network.backward(result, np.ones((1, 1), dtype=network.dtype))
    Adam(network).step(gradients, max_norm=1.0)
    network.stream().push(0.0)


def train_in_processes(
    panel: FlatPanel,
    spec: WindowSpec,
    train: tuple[IntArray, IntArray],
    validation: tuple[IntArray, IntArray],
    config: TrainingConfig,
    rngs: Sequence[np.random.Generator],
    workers: int,
    on_member: Callable[[TrainingResult], None] | None = None,
) -> list[TrainingResult]:
    """Train one network per generator in ``workers`` processes, one thread each.

    The small matrices of an LSTM step use several cores poorly, so separate members on
    separate cores scale far better than threads inside one member. Each member depends only
    on its own generator, so the result is bit-identical to training them one by one.

    Parameters
    ----------
    panel, spec, train, validation, config
        As for :func:`train_network`.
    rngs : sequence of numpy.random.Generator
        One per member.
    workers : int
        Processes to use (>= 2).
    on_member : callable, optional
        Called with each result as it arrives (in member order).

    Returns
    -------
    list of TrainingResult
        In the order of ``rngs``.
    """
    compile_training_kernels(config.dtype)  # once here, not in every worker at the same time
    # Spawned workers start a fresh interpreter, so these must be set before they import
    # NumPy and Numba; the parent's own thread pools are already running and unaffected.
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(_THREAD_VARIABLES, "1"))
    try:
        context = multiprocessing.get_context("spawn")  # fork is unsafe with thread pools
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(train_network, panel, spec, train, validation, config, rng)
                for rng in rngs
            ]
            results = []
            for future in futures:
                results.append(future.result())
                if on_member is not None:
                    on_member(results[-1])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return results
