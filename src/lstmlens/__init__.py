"""lstmlens: a from-scratch LSTM forecaster for the CPU that explains its own memory."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lstmlens")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
