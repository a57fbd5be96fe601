"""The explorer's web app: JSON endpoints over one fitted model, plus the static page.

Endpoints (all answers are JSON; every error is ``{"detail": "<one clear sentence>"}``):

``GET /api/model``
    Sizes, series ids, horizon, feature names, step labels, parameter shapes.
``GET /api/series/{id}``
    History, fitted values, forecast with intervals, and the last input window.
``GET /api/trace/{id}?layer=&unit=``
    Per-step gates (i_t, f_t, g_t, o_t) and memories (c_t, h_t) of one unit.
``GET /api/step/{id}?step=&layer=&unit=``
    Every number on every path of the unit at that step, and its narration.
``POST /api/whatif``
    Edit inputs or weights on a copy of the model and re-run the engine.
``POST /api/upload``
    A CSV (raw body or multipart field ``file``) to fit a quick model on and explore.

Requests never touch the file system: the page's files are read once when the app is built.
Bodies are capped (``413`` before the body is read), cross-site ``POST`` is refused, and a bad
request only ever costs its own answer.
"""

from __future__ import annotations

import threading
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from lstmlens import __version__
from lstmlens.data import DataError, Panel
from lstmlens.explorer.contract import ForecasterLike
from lstmlens.explorer.errors import ExplorerError
from lstmlens.explorer.guard import BodyLimit, SameOriginWrites, SecurityHeaders
from lstmlens.explorer.schemas import WhatIfBody
from lstmlens.explorer.session import ExplorerSession
from lstmlens.explorer.upload import Trainer, panel_from_csv, quick_trainer, read_upload

#: Default cap on an uploaded CSV, in bytes.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
#: Cap on every other request body (the what-if edits), in bytes.
MAX_JSON_BYTES = 64 * 1024

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}

Layer = Annotated[int, Query(ge=0, le=1_000, description="LSTM layer, 0 = bottom.")]
Unit = Annotated[int, Query(ge=0, le=1_000_000, description="Unit of the layer.")]
Step = Annotated[int, Query(ge=0, le=1_000_000, description="Step of the input window.")]


def load_static_files() -> dict[str, tuple[bytes, str]]:
    """Read the page's files shipped in ``lstmlens/explorer/static`` once, into memory."""
    files: dict[str, tuple[bytes, str]] = {}
    folder = resources.files("lstmlens.explorer").joinpath("static")
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in _MEDIA_TYPES:
            files[entry.name] = (entry.read_bytes(), _MEDIA_TYPES[suffix])
    return files


class _State:
    """The session being explored (replaced by an upload) and the upload lock."""

    def __init__(self, session: ExplorerSession) -> None:
        self.session = session
        self.fitting = threading.Lock()


def create_app(
    forecaster: ForecasterLike,
    data_panel: Panel | None = None,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    trainer: Trainer | None = None,
    source: str = "",
) -> FastAPI:
    """Build the explorer app for one fitted forecaster.

    Parameters
    ----------
    forecaster : LSTMForecaster
        A fitted forecaster (anything with ``ids_``, ``network_``, ``trace``, ``predict``
        and ``fitted_values``).
    data_panel : Panel, optional
        The data the model was fitted on, drawn behind the forecast.
    max_upload_bytes : int
        Largest CSV ``POST /api/upload`` accepts; larger bodies get ``413`` unread.
    trainer : callable, optional
        ``trainer(panel) -> forecaster`` used for uploads; by default a quick fit with the
        loaded model's settings (see :func:`lstmlens.explorer.upload.quick_trainer`).
    source : str
        Where the model came from, shown in the page's header.

    Returns
    -------
    fastapi.FastAPI
        With the body-size and same-origin guards installed as middleware.
    """
    if max_upload_bytes < 1:
        raise ValueError(f"max_upload_bytes must be at least 1, got {max_upload_bytes}.")
    state = _State(ExplorerSession(forecaster, data_panel, source=source))
    train = trainer if trainer is not None else quick_trainer(forecaster)
    static = load_static_files()
    app = FastAPI(
        title="lstmlens explorer",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.explorer = state
    _add_error_handlers(app)

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        content, media_type = static["index.html"]
        return Response(content, media_type=media_type)

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        if name not in static:
            raise ExplorerError(f"no page file called {name!r}.", status=404)
        content, media_type = static[name]
        return Response(content, media_type=media_type)

    @app.get("/api/model")
    def model() -> dict[str, Any]:
        view = state.session.model_view()
        view["upload_limit_bytes"] = max_upload_bytes
        return view

    @app.get("/api/series/{series_id:path}")
    def series(series_id: str) -> dict[str, Any]:
        return state.session.series_view(state.session.check_series(series_id))

    @app.get("/api/trace/{series_id:path}")
    def trace(series_id: str, layer: Layer = 0, unit: Unit = 0) -> dict[str, Any]:
        return state.session.timeline_view(state.session.check_series(series_id), layer, unit)

    @app.get("/api/step/{series_id:path}")
    def step(series_id: str, step: Step, layer: Layer = 0, unit: Unit = 0) -> dict[str, Any]:
        session = state.session
        return session.step_view(session.check_series(series_id), layer, unit, step)

    @app.post("/api/whatif")
    def whatif(body: WhatIfBody) -> dict[str, Any]:
        session = state.session
        series_id = session.check_series(body.series_id)
        return session.what_if_view(series_id, body.layer, body.unit, body.step, body.to_edits())

    @app.post("/api/upload")
    async def upload(request: Request) -> dict[str, Any]:
        data, name = await read_upload(request, max_upload_bytes)
        panel = panel_from_csv(data, name)
        if not state.fitting.acquire(blocking=False):
            raise ExplorerError(
                "another upload is still being fitted; wait for it to finish and try again.",
                status=409,
            )
        try:
            fitted = await run_in_threadpool(train, panel)
            session = ExplorerSession(fitted, panel, source=f"uploaded {name}")
            view = await run_in_threadpool(session.model_view)
        finally:
            state.fitting.release()
        state.session = session
        view["upload_limit_bytes"] = max_upload_bytes
        return view

    app.add_middleware(SecurityHeaders, headers=_SECURITY_HEADERS)
    app.add_middleware(SameOriginWrites)
    app.add_middleware(
        BodyLimit, default_limit=MAX_JSON_BYTES, limits={"/api/upload": max_upload_bytes}
    )
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every failure becomes ``{"detail": "..."}`` with a clear status."""

    async def explorer_error(_: Request, error: Exception) -> Response:
        assert isinstance(error, ExplorerError)
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    async def data_error(_: Request, error: Exception) -> Response:
        return JSONResponse({"detail": str(error)}, status_code=422)

    async def validation_error(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return JSONResponse({"detail": describe_validation(error)}, status_code=422)

    async def http_error(_: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        return JSONResponse({"detail": str(error.detail)}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    async def unexpected(_: Request, error: Exception) -> Response:
        return JSONResponse(
            {"detail": f"internal error ({type(error).__name__}: {error}); the server is "
                       "still running, please report this with the request you made."},
            status_code=500,
        )

    app.add_exception_handler(ExplorerError, explorer_error)
    app.add_exception_handler(DataError, data_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def describe_validation(error: RequestValidationError) -> str:
    """One sentence per problem: where it is, what was sent and what is allowed."""
    parts = []
    for problem in error.errors():
        location = [str(item) for item in problem.get("loc", ())]
        where = location[0] if location else "request"
        name = ".".join(location[1:]) or "body"
        text = f"{where} parameter {name!r}: {problem.get('msg', 'is invalid')}"
        if "input" in problem and where != "body":
            text += f" (got {problem['input']!r})"
        parts.append(text)
    return "; ".join(parts) + "."
