"""Shared pieces of the figures: a pyplot-free Figure, colours, and saving to PNG + SVG.

Figures are built on :class:`matplotlib.figure.Figure` directly, never through pyplot, so
they work under any backend (and headless, like ``matplotlib.use("Agg")``) without touching
global state.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

#: One colour per quantity, used in every figure (the seed's orange sigmoid and yellow tanh
#: paths of the input gate).
COLOURS = {
    "forget_gate": "#1f77b4",
    "input_gate": "#ff7f0e",
    "candidate_memory": "#d4a500",
    "output_gate": "#2ca02c",
    "long_term_memory": "#7b3294",
    "short_term_memory": "#d6604d",
    "series": "#333333",
    "forecast": "#e7298a",
    "dense": "#555555",
}

DPI = 100


def new_figure(width: float, height: float, dpi: int = DPI) -> Figure:
    """Return an empty figure of ``width`` x ``height`` inches (``dpi`` pixels per inch)."""
    return Figure(figsize=(width, height), dpi=dpi)


def save_figure(fig: Figure, path_stem: str | os.PathLike[str], dpi: int | None = None
                ) -> tuple[Path, Path]:
    """Save ``fig`` as ``<path_stem>.png`` and ``<path_stem>.svg``.

    Each file is written to a temporary name and moved into place, so a reader never sees
    half a file. The PNG is exactly ``figsize x dpi`` pixels (no tight cropping).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    path_stem : path-like
        Path without extension; parent folders are created.
    dpi : int, optional
        Pixels per inch of the PNG (default: the figure's own).

    Returns
    -------
    (png_path, svg_path) : tuple of Path
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, metadata in (("png", {"Software": None}), ("svg", {"Date": None})):
        target = stem.with_name(f"{stem.name}.{fmt}")
        handle, temporary = tempfile.mkstemp(prefix=f".{stem.name}.", suffix=f".{fmt}",
                                             dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                fig.savefig(stream, format=fmt, dpi=dpi or fig.dpi, metadata=metadata)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        paths.append(target)
    return paths[0], paths[1]


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int | None = None) -> bytes:
    """Render ``fig`` to bytes in ``fmt`` ("png" or "svg"), for inlining in HTML."""
    import io

    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Date": None}
    fig.savefig(buffer, format=fmt, dpi=dpi or fig.dpi, metadata=metadata)
    return buffer.getvalue()
