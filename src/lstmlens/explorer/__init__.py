"""A local web page to step through a fitted model: every gate, memory and weight.

Needs the ``explorer`` extra (FastAPI and uvicorn)::

    from lstmlens.explorer import create_app, serve
    serve(create_app(forecaster))

or from the command line, ``lstmlens explore model.lstmlens``.
"""

from __future__ import annotations

from lstmlens.explorer.app import create_app
from lstmlens.explorer.server import serve, start_in_thread

__all__ = ["create_app", "serve", "start_in_thread"]
