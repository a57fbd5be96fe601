"""The one error type explorer code raises for a request it cannot answer."""

from __future__ import annotations


class ExplorerError(ValueError):
    """A request named something that does not exist or is out of range.

    Parameters
    ----------
    detail : str
        What was wrong, what is allowed and how to fix it; sent to the page as
        ``{"detail": detail}``.
    status : int
        The HTTP status: 404 for an unknown series, 409 when busy, 422 otherwise.
    """

    def __init__(self, detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


def check_range(name: str, value: int, size: int, what: str) -> int:
    """Return ``value`` if ``0 <= value < size``, else raise an :class:`ExplorerError`.

    Parameters
    ----------
    name : str
        The parameter's name, e.g. ``"step"``.
    value : int
        The value sent.
    size : int
        How many there are; allowed values are ``0 .. size - 1``.
    what : str
        What ``size`` counts, e.g. ``"the window has 12 steps"``.
    """
    if not 0 <= value < size:
        raise ExplorerError(f"{name}={value} is out of range: allowed 0..{size - 1} ({what}).")
    return value
