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
from lstmlens.explorer.session import ENGINE_LOCK, ExplorerSession
from lstmlens.explorer.upload import Trainer, panel_from_csv, quick_trainer, read_upload

#: Default cap on an uploaded CSV, in bytes (at most Starlette's in-memory spool for forms,
#: so an uploaded file is never written to disk).
MAX_UPLOAD_BYTES = 1024 * 1024
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
        """The page."""
        content, media_type = static["index.html"]
        return Response(content, media_type=media_type)

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        """One of the page's own files, from memory; any other name is a 404."""
        if name not in static:
            raise ExplorerError(f"no page file called {name!r}.", status=404)
        content, media_type = static[name]
        return Response(content, media_type=media_type)

    @app.get("/api/model")
    def model() -> dict[str, Any]:
        """Sizes, series ids, horizon, feature names and step labels."""
        view = state.session.model_view()
        view["upload_limit_bytes"] = max_upload_bytes
        return view

    @app.get("/api/series/{series_id:path}")
    def series(series_id: str) -> dict[str, Any]:
        """History, fitted values and the forecast with intervals of one series."""
        return state.session.series_view(state.session.check_series(series_id))

    @app.get("/api/trace/{series_id:path}")
    def trace(series_id: str, layer: Layer = 0, unit: Unit = 0) -> dict[str, Any]:
        """Every step's gates and memories of one unit."""
        return state.session.timeline_view(state.session.check_series(series_id), layer, unit)

    @app.get("/api/step/{series_id:path}")
    def step(series_id: str, step: Step, layer: Layer = 0, unit: Unit = 0) -> dict[str, Any]:
        """Every number of one unit at one step, and its narration."""
        session = state.session
        return session.step_view(session.check_series(series_id), layer, unit, step)

    @app.post("/api/whatif")
    def whatif(body: WhatIfBody) -> dict[str, Any]:
        """Re-run the engine with edited inputs or weights (on copies)."""
        session = state.session
        series_id = session.check_series(body.series_id)
        return session.what_if_view(series_id, body.layer, body.unit, body.step, body.to_edits())

    @app.post("/api/upload")
    async def upload(request: Request) -> dict[str, Any]:
        """Fit a quick model on an uploaded CSV and explore it from now on."""
        data, name = await read_upload(request, max_upload_bytes)
        panel = await run_in_threadpool(panel_from_csv, data, name)
        if not state.fitting.acquire(blocking=False):
            raise ExplorerError(
                "another upload is still being fitted; wait for it to finish and try again.",
                status=409,
            )
        try:
            session = await run_in_threadpool(_fit_session, train, panel, name)
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


def _fit_session(train: Trainer, panel: Panel, name: str) -> ExplorerSession:
    """Fit a model on an uploaded panel (holding the engine) and wrap it in a session."""
    with ENGINE_LOCK:
        fitted = train(panel)
    return ExplorerSession(fitted, panel, source=f"uploaded {name}")


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
    """One sentence per problem: where it is, what was sent and what is allowed.

    Examples: ``query parameter 'step': Input should be a valid integer (got 'abc')``,
    ``request body field 'edits.0.value': Input should be a finite number``.
    """
    parts = []
    for problem in error.errors():
        location = list(problem.get("loc", ()))
        where = str(location[0]) if location else "request"
        # Drop the discriminator tag pydantic adds after a list index ("edits.0.input.value").
        path = [
            str(item) for k, item in enumerate(location[1:], start=1)
            if not (item in ("input", "weight") and isinstance(location[k - 1], int))
        ]
        message = str(problem.get("msg", "is invalid"))
        if problem.get("type") == "json_invalid":
            parts.append("the request body is not valid JSON; send a JSON object with "
                         "Content-Type: application/json")
            continue
        if where == "body":
            field = ".".join(item for item in path if item != "body")
            text = f"request body field {field!r}: {message}" if field else (
                f"request body: {message}; send a JSON object with "
                "Content-Type: application/json")
        else:
            text = f"{where} parameter {'.'.join(path)!r}: {message}"
        value = problem.get("input")
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text += f" (got {value!r})"
        parts.append(text)
    return "; ".join(parts) + "."
