"""Compiling the forecasting kernels in a helper process while training compiles its own.

On a first run after installing, Numba's disk cache is empty and every kernel is compiled for
the CPU, in one thread: about two and a half minutes of a first ``lstmlens forecast`` on a
2-vCPU machine. Training runs the forward passes that keep the gates and backward through
time; forecasting (and validation, and calibration) the forward passes that keep nothing,
a different compiled mode of :func:`lstmlens.sequences.forward_rows` that shares no machine
code with the training kernels. So a fit on a cold cache starts a helper process that
compiles the forecasting kernels into the cache (:func:`compile_forecasting`) while this
process compiles the training kernels and trains; the first forecasting pass waits for the
helper (:func:`wait`) and then loads them from the cache instead of compiling them again.

The helper is only an optimisation: if it cannot start, fails or is still running after
:data:`WAIT_LIMIT_S`, this process compiles what it needs itself, as without it. It is
stopped when this process exits.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

import numpy as np

from lstmlens import sequences
from lstmlens.activations import cached_on_disk

__all__ = ["compile_forecasting", "forecasting_compiled", "helper_command", "start", "wait"]

#: Seconds a forecasting pass waits for the helper before compiling on its own.
WAIT_LIMIT_S = 600.0
#: The forecasting kernels, one per way of sharing a pass out (see lstmlens.kernels).
FORECASTING_KERNELS = (sequences.forward, sequences.forward_parallel,
                       sequences.forward_units_parallel)

_helper: subprocess.Popen[bytes] | None = None


def forecasting_compiled() -> bool:
    """Whether Numba's disk cache has the forecasting kernels (True if it cannot tell, and
    then no helper is started)."""
    return cached_on_disk(*FORECASTING_KERNELS)


def start(dtype: str | type[np.floating]) -> bool:
    """Start the helper that compiles the forecasting kernels for ``dtype``, if worth it.

    Nothing is started when the cache already has them, a helper is running, or there is a
    single CPU to compile on.

    Returns
    -------
    bool
        True if a helper was started.
    """
    global _helper
    if _helper is not None or (os.cpu_count() or 1) < 2 or forecasting_compiled():
        return False
    # The helper imports lstmlens from where this process found it.
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        _helper = subprocess.Popen(helper_command(dtype), env=environment,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
    except OSError:
        return False
    atexit.unregister(_stop)  # registered once however many helpers a process starts
    atexit.register(_stop)
    return True


def helper_command(dtype: str | type[np.floating]) -> list[str]:
    """The command line of the helper: :func:`compile_forecasting` in a fresh interpreter."""
    code = ("from lstmlens.compile_ahead import compile_forecasting; "
            f"compile_forecasting({np.dtype(dtype).name!r})")
    return [sys.executable, "-c", code]


def wait() -> None:
    """Let a running helper finish (at most :data:`WAIT_LIMIT_S`), whatever its outcome."""
    global _helper
    helper, _helper = _helper, None
    if helper is None:
        return
    try:
        helper.wait(WAIT_LIMIT_S)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()


def _stop() -> None:
    """Stop a helper this process no longer needs (it exits before forecasting)."""
    global _helper
    helper, _helper = _helper, None
    if helper is not None and helper.poll() is None:
        helper.kill()
        helper.wait()


def compile_forecasting(dtype: str) -> None:
    """What the helper runs: one forecasting pass down each way of sharing it out, so that
    every forecasting kernel of ``dtype`` is compiled into the disk cache.

    The compiled code depends on the arrays' types, not their sizes, so tiny layers do; the
    sizes are chosen to pass the thresholds of :mod:`lstmlens.kernels`: one series of a
    small layer (one thread), 16 series (the rows split) and one series of 128 units (the
    units split, with two threads or more).
    """
    from lstmlens.network import LSTMNetwork

    for series, hidden, steps in ((1, 16, 2), (16, 16, 16), (1, 128, 8)):
        network = LSTMNetwork.initialize(1, hidden, dtype=dtype, random_state=0)
        network.forward(np.zeros((series, steps, 1), dtype=network.dtype))

