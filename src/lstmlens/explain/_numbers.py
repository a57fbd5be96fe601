"""How explanations print numbers: one place, so tests can parse them back.

Two styles, both with at most six decimals so a printed number is always within
``0.5e-6`` (or half its last printed digit) of the trace value it shows:

- :func:`fixed` for values the engine computed (gates, memories, predictions): six decimals,
  as the seed's worked example quotes them (0.998341, 5.620534).
- :func:`compact` for weights, inputs, weighted sums and their parts: trailing zeros
  dropped but at least two decimals (1.75, 1.40, 6.40, -0.05).
"""

from __future__ import annotations

import math

#: Decimals of :func:`fixed`; the tolerance of any printed number is half its last digit.
DECIMALS = 6


def _clean(text: str) -> str:
    """Turn a printed negative zero ("-0.00") into "0.00"."""
    if text.startswith("-") and text.strip("-0.") == "":
        return text[1:]
    return text


def fixed(value: float, decimals: int = DECIMALS) -> str:
    """Print ``value`` with exactly ``decimals`` decimals (``inf`` and ``nan`` as words)."""
    if not math.isfinite(value):
        return "inf" if value > 0 else "-inf" if value < 0 else "nan"
    return _clean(f"{value:.{decimals}f}")


def compact(value: float, max_decimals: int = DECIMALS, min_decimals: int = 2) -> str:
    """Print ``value`` with up to ``max_decimals`` decimals, trailing zeros dropped.

    At least ``min_decimals`` decimals stay, so 1.4 prints as ``1.40`` like the seed.
    """
    text = fixed(value, max_decimals)
    if "." not in text:
        return text
    whole, frac = text.split(".")
    frac = frac.rstrip("0")
    frac = frac + "0" * max(0, min_decimals - len(frac))
    return _clean(f"{whole}.{frac}")


def signed(value: float) -> str:
    """:func:`compact` with an explicit sign: ``+0.41`` or ``-0.22``."""
    text = compact(value)
    return text if text.startswith("-") else f"+{text}"


def parenthesised(value: float) -> str:
    """:func:`compact`, wrapped in parentheses when negative: ``(-0.05)`` as in the seed."""
    text = compact(value)
    return f"({text})" if text.startswith("-") else text


def percent(fraction: float) -> str:
    """Print a fraction in [0, 1] as a percentage with one decimal (more near 0 or 100).

    ``0.998341`` prints ``99.8%``; ``0.99996`` prints ``99.996%`` rather than a misleading
    ``100.0%``.
    """
    value = 100.0 * fraction
    for decimals in (1, 2, 3, 4):
        text = f"{value:.{decimals}f}"
        if 0.0 < fraction < 1.0 and float(text) in (0.0, 100.0):
            continue
        return f"{_clean(text)}%"
    return f"{_clean(f'{value:.4f}')}%"


def steps(value: float) -> str:
    """Print a number of time steps (a half-life): ``inf`` or one decimal."""
    if math.isinf(value):
        return "inf"
    return f"{value:.1f}"


def label(value: object) -> str:
    """Print a time label: a timestamp at midnight loses its "00:00:00"."""
    text = str(value)
    return text[: -len(" 00:00:00")] if text.endswith(" 00:00:00") else text
