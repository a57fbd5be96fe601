"""Argument checks shared by the explain modules: clear ValueErrors the CLI can print."""

from __future__ import annotations

import numpy as np


def resolve_index(name: str, value: int, size: int, what: str) -> int:
    """Return ``value`` as an index in ``0..size-1`` (negatives count from the end).

    Raises
    ------
    ValueError
        Naming ``name``, the bad value and the allowed range.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or \
            not -size <= value < size:
        raise ValueError(f"{name}={value!r} is out of range: {what} is {size}, so choose "
                         f"{name} in 0..{size - 1} (or -{size}..-1 from the end).")
    return int(value) % size


def check_choice(name: str, value: int, size: int, what: str) -> int:
    """Return ``value`` if it is an index in ``0..size-1`` (no negatives), else raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or \
            not 0 <= value < size:
        raise ValueError(f"{name}={value!r} is out of range: {what} is {size}, so choose "
                         f"{name} in 0..{size - 1}.")
    return int(value)
