"""lstmlens: a from-scratch LSTM forecaster for the CPU that explains its own memory.

The main entry points are imported lazily, so ``import lstmlens`` (and the CLI's ``--help``)
stays fast::

    from lstmlens import LSTMForecaster, LSTMNetwork
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("lstmlens")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_EXPORTS = {
    "LSTMForecaster": "lstmlens.forecaster",
    "ForecastTrace": "lstmlens.forecaster",
    "LSTMNetwork": "lstmlens.network",
    "LSTMState": "lstmlens.network",
    "load_panel": "lstmlens.data",
    "load_air_passengers": "lstmlens.datasets",
    "seed_walkthrough": "lstmlens.explain",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lstmlens' has no attribute {name!r}")
