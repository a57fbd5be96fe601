"""Run the explorer app with uvicorn, on this machine only unless told otherwise.

:func:`serve` blocks until Ctrl+C; :func:`start_in_thread` runs the server in the background
(for notebooks and tests) and returns a handle with the page's URL and ``stop()``.
"""

from __future__ import annotations

import sys
import threading
import time
import webbrowser
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp

from lstmlens.explorer.guard import LoopbackHostOnly, is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

EXPOSED_WARNING = """\
WARNING: the explorer is listening on {host}, which other machines can reach.
Anyone who can connect can see this model and its data, and can upload CSV files for it to
fit. Use --host 127.0.0.1 (the default) unless you trust every machine on this network."""


def page_url(host: str, port: int) -> str:
    """The address to open in a browser for a server bound to ``host:port``."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if shown == "::":
        shown = "::1"
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def exposure_warning(host: str) -> str | None:
    """The warning to print when ``host`` lets other machines reach the page, else None."""
    return None if is_loopback(host) else EXPOSED_WARNING.format(host=host)


def _config(app: ASGIApp, host: str, port: int) -> Any:
    import uvicorn

    if not 0 <= port <= 65535:
        raise ValueError(f"port must be between 0 and 65535, got {port}.")
    warning = exposure_warning(host)
    if warning is None:
        app = LoopbackHostOnly(app)  # refuse DNS-rebinding requests for foreign names
    else:
        print(warning, file=sys.stderr, flush=True)
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False,
        server_header=False, limit_concurrency=64, timeout_keep_alive=5,
    )


def check_port_free(host: str, port: int) -> None:
    """Raise ``OSError`` with a clear message if ``host:port`` cannot be listened on."""
    import socket

    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            raise OSError(
                f"cannot listen on {host}:{port} ({error.strerror or error}); choose another "
                "port with --port, or stop the program that uses it."
            ) from None


def serve(
    app: ASGIApp,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    *,
    announce: bool = True,
) -> None:
    """Serve ``app`` until interrupted, printing the page's URL.

    Parameters
    ----------
    app : ASGI app
        Usually from :func:`lstmlens.explorer.app.create_app`.
    host : str
        Interface to listen on. Loopback (the default) keeps the page on this machine and
        refuses requests for other host names; anything else prints a loud warning.
    port : int
        TCP port.
    open_browser : bool
        Open the page in the default browser once the server is up.
    announce : bool
        Print the page's URL first (the CLI prints it itself).
    """
    import uvicorn

    server = uvicorn.Server(_config(app, host, port))
    url = page_url(host, port)
    if announce:
        print(f"lstmlens explorer: {url}  (press Ctrl+C to stop)", flush=True)
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    server.run()


def _open_when_started(server: Any, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.started:
        webbrowser.open(url)


@dataclass
class RunningServer:
    """A server started by :func:`start_in_thread`."""

    url: str
    server: Any
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish its requests and exit; wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout)


def start_in_thread(
    app: ASGIApp, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, timeout: float = 30.0
) -> RunningServer:
    """Start serving ``app`` in a background thread and wait until it accepts requests.

    Raises
    ------
    RuntimeError
        If the server did not start within ``timeout`` seconds (e.g. the port is taken).
    """
    import uvicorn

    server = uvicorn.Server(_config(app, host, port))
    thread = threading.Thread(target=server.run, name="lstmlens-explorer", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        thread.join(5)
        raise RuntimeError(f"the explorer did not start on {host}:{port} within {timeout} s; "
                           "is the port already in use?")
    return RunningServer(url=page_url(host, port), server=server, thread=thread)
