"""Pictures of the trace, drawn with matplotlib (the only part of lstmlens that imports it).

Import this package only when you want a figure; nothing else in lstmlens imports it at
module level. Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot (safe headless, under any backend); :func:`save_figure` writes it as PNG and SVG.
"""

from __future__ import annotations

from lstmlens.explain.figures._base import figure_bytes, save_figure
from lstmlens.explain.figures.curves import activation_curves, attribution_figure
from lstmlens.explain.figures.diagram import unit_diagram
from lstmlens.explain.figures.timeline import memory_timeline

__all__ = [
    "activation_curves",
    "attribution_figure",
    "figure_bytes",
    "memory_timeline",
    "save_figure",
    "unit_diagram",
]
