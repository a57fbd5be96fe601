"""Shared error handling of the CLI: one line on stderr and an exit code scripts can rely on.

Exit codes
----------
0
    Success.
1
    Unexpected internal error (a bug): one line with a hint to report it; the full traceback
    only with ``--debug`` or the environment variable ``LSTMLENS_DEBUG=1``.
2
    Bad usage or bad input: invalid data (:class:`~lstmlens.data.DataError`), a damaged model
    file (:class:`~lstmlens.io.ModelFileError`), a rejected value (:class:`ValueError`), a file
    that cannot be found or read.
3
    Refused to overwrite an existing file (pass ``--force``).

Every command wraps its body in :func:`cli_errors`::

    @app.command()
    def fit(..., debug: DebugOption = False) -> None:
        with cli_errors(debug):
            ...
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

__all__ = [
    "EXIT_EXISTS",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "DebugOption",
    "ForceOption",
    "OutputExistsError",
    "check_writable",
    "cli_errors",
    "debug_enabled",
    "fail",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_EXISTS = 3

#: Environment variable that turns on full tracebacks, like ``--debug``.
DEBUG_ENV = "LSTMLENS_DEBUG"

_REPORT_HINT = (
    "this is a bug in lstmlens; please report it with the command you ran "
    f"(rerun with --debug or {DEBUG_ENV}=1 for the traceback)."
)

DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug",
        help=f"Show the full traceback of an unexpected error (same as {DEBUG_ENV}=1).",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", "-f", help="Overwrite output files that already exist."),
]


class OutputExistsError(FileExistsError):
    """An output file exists and ``--force`` was not given (exit code 3)."""


def debug_enabled(flag: bool = False) -> bool:
    """True if ``--debug`` was given or ``LSTMLENS_DEBUG`` is set to a true value."""
    value = os.environ.get(DEBUG_ENV, "").strip().lower()
    return flag or value in {"1", "true", "yes", "on"}


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``Error: <message>`` as one line on stderr and exit with ``code``."""
    one_line = " ".join(str(message).split())
    typer.echo(f"Error: {one_line}", err=True)
    raise typer.Exit(code)


def check_writable(path: Path, force: bool, what: str = "output file") -> None:
    """Refuse an existing ``path`` unless ``force``; refuse a missing parent directory.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``force`` is False.
    FileNotFoundError
        If the directory ``path`` should go into does not exist.
    """
    if path.exists() and not force:
        raise OutputExistsError(
            f"{what} {path} already exists; pass --force to overwrite it or choose another path."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {what} {path}: the directory {path.parent} does not exist."
        )


#: Keyword arguments that the data layer's messages name and the CLI spells as options.
_OPTION_KEYWORDS = re.compile(r"\b(freq|id_col|time_col|target_col)=(?=(['\"\w])?)")


def _as_options(text: str) -> str:
    """Spell the Python keywords a library message names as the CLI's options:
    ``pass freq=, e.g. freq='h'`` becomes ``pass --freq, e.g. --freq 'h'``."""
    def option(match: re.Match[str]) -> str:
        flag = "--" + match.group(1).replace("_", "-")
        return f"{flag} " if match.group(2) else flag
    return _OPTION_KEYWORDS.sub(option, text)


def _describe(error: BaseException) -> str:
    """The error's own message (keywords spelled as options), or for an OSError without one,
    its strerror and file name."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    text = _as_options(str(error).strip())
    return text or type(error).__name__


@contextmanager
def cli_errors(debug: bool = False) -> Iterator[None]:
    """Turn exceptions raised inside the block into one ``Error:`` line and an exit code.

    Parameters
    ----------
    debug : bool, default False
        Re-raise unexpected errors with their traceback (also on with ``LSTMLENS_DEBUG=1``).

    Raises
    ------
    typer.Exit
        With :data:`EXIT_EXISTS`, :data:`EXIT_USAGE` or :data:`EXIT_INTERNAL`.
    """
    try:
        yield
    # Usage errors and Ctrl+C are typer's to report (typer carries its own copy of click).
    except (typer.Exit, typer.TyperException, typer.Abort):
        raise
    except OutputExistsError as error:
        fail(_describe(error), EXIT_EXISTS)
    except (ValueError, OSError) as error:
        if debug_enabled(debug):
            raise
        fail(_describe(error), EXIT_USAGE)
    except Exception as error:
        if debug_enabled(debug):
            raise
        fail(f"unexpected {type(error).__name__}: {_describe(error)}; {_REPORT_HINT}",
             EXIT_INTERNAL)
