"""``POST /api/upload``: read a CSV from the request body and fit a quick model on it.

The body is the CSV itself (``Content-Type: text/csv``) or a multipart form with one field
``file``. Its size is capped before it is read (:class:`~lstmlens.explorer.guard.BodyLimit`);
it is parsed in memory (Starlette keeps form files up to 1 MiB in memory, the default cap)
and validated by
:func:`lstmlens.data.load_panel`, whose messages say what is wrong and how to fix it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pandas as pd
from starlette.datastructures import UploadFile
from starlette.requests import Request

from lstmlens.data import Panel, load_panel
from lstmlens.explorer.contract import ForecasterLike
from lstmlens.explorer.errors import ExplorerError

#: Most series and values an upload may hold, so fitting stays quick.
MAX_SERIES = 50
MAX_VALUES = 50_000

Trainer = Callable[[Panel], ForecasterLike]


async def read_upload(request: Request, limit: int) -> tuple[bytes, str]:
    """Return the uploaded CSV's bytes and a display name.

    Parameters
    ----------
    request : Request
        A raw CSV body, or ``multipart/form-data`` with a ``file`` field.
    limit : int
        Largest file, in bytes (the body itself is capped by the middleware).

    Raises
    ------
    ExplorerError
        For an empty body or a form without a ``file`` field.
    """
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=8, max_part_size=limit) as form:
            field = form.get("file")
            if not isinstance(field, UploadFile):
                raise ExplorerError(
                    "the form has no file field 'file'; send the CSV as field 'file' or as "
                    "the raw request body with Content-Type: text/csv."
                )
            data = await field.read()
            name = _display_name(field.filename)
    else:
        data = body
        name = _display_name(request.headers.get("x-filename"))
    if not data.strip():
        raise ExplorerError("the uploaded file is empty; send a CSV with at least one series.")
    return data, name


def _display_name(filename: str | None) -> str:
    """The file's own name, without any folders, for display only (never opened)."""
    if not filename:
        return "data.csv"
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(char for char in base if char.isprintable())
    return printable[:80] or "data.csv"


def panel_from_csv(data: bytes, name: str = "data.csv") -> Panel:
    """Parse CSV bytes into a validated :class:`~lstmlens.data.Panel`.

    Accepts the layouts of :func:`lstmlens.data.load_panel` that have a header row: long
    (``unique_id, ds, y``), wide (a date column and one column per series) or one column.

    Raises
    ------
    ExplorerError
        For bytes that are not UTF-8 text, text that is not a CSV table, or data that is too
        large to fit quickly.
    DataError
        For a table that is not usable time-series data (the message says why).
    """
    if b"\x00" in data:
        raise ExplorerError(f"{name} is not a text file; upload a CSV (comma-separated text).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExplorerError(
            f"{name} is not UTF-8 text (byte {error.start} cannot be decoded); save it as "
            "UTF-8 CSV and upload it again."
        ) from None
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "no data"
        raise ExplorerError(
            f"{name} is not a readable CSV table ({first_line}); check the commas and that "
            "every row has the same number of columns."
        ) from None
    if frame.shape[0] * max(frame.shape[1], 1) > MAX_VALUES:
        raise ExplorerError(
            f"{name} holds {frame.size} cells; the explorer fits uploads of at most "
            f"{MAX_VALUES} values quickly. Upload fewer or shorter series, or fit with "
            "'lstmlens fit' and open the saved model with 'lstmlens explore MODEL'."
        )
    panel = load_panel(frame)
    if len(panel) > MAX_SERIES:
        raise ExplorerError(
            f"{name} has {len(panel)} series; the explorer fits at most {MAX_SERIES} quickly. "
            "Upload fewer series, or fit with 'lstmlens fit' and explore the saved model."
        )
    return panel


def quick_trainer(template: ForecasterLike) -> Trainer:
    """A trainer that fits a small, quick model with ``template``'s architecture.

    Parameters
    ----------
    template : LSTMForecaster
        The loaded model. Its architecture and training choices (hidden size, layers,
        strategy, baseline, loss, precision...) are reused; settings that depend on the data
        (horizon, input window, season, frequency) are chosen afresh for the upload, and
        training is capped by :data:`QUICK_SETTINGS` so an upload is explorable in seconds.

    Returns
    -------
    callable
        ``train(panel) -> fitted forecaster``.
    """

    def train(panel: Panel) -> ForecasterLike:
        from lstmlens.forecaster import LSTMForecaster

        get_params = getattr(template, "get_params", None)
        settings: dict[str, Any] = dict(get_params()) if callable(get_params) else {}
        for name in DATA_SETTINGS:
            settings.pop(name, None)
        settings.update(QUICK_SETTINGS)
        fitted: ForecasterLike = LSTMForecaster(**settings).fit(panel)
        return fitted

    return train


#: Settings of the loaded model that depend on its data; an upload gets its own.
DATA_SETTINGS = (
    "horizon", "input_size", "step_length", "season", "freq", "id_col", "time_col",
    "target_col", "missing",
)
#: Settings that keep an upload's fit to a few seconds.
QUICK_SETTINGS: dict[str, Any] = {
    "max_steps": 300,
    "time_budget": 15.0,
    "ensemble_size": 1,
    "progress": False,
}
