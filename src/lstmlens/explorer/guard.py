"""Request guards for the explorer: body-size limits and same-origin writes.

Both are plain ASGI middleware so they act before FastAPI reads a single byte of a body:

- :class:`BodyLimit` answers ``413`` when the ``Content-Length`` header announces more than
  the route's limit, and stops reading (also ``413``) as soon as a body sent without a length
  grows past it. Nothing is buffered beyond the limit.
- :class:`SameOriginWrites` answers ``403`` to a ``POST`` whose ``Origin`` header names
  another site, so a web page open in the same browser cannot drive the local explorer.

Every refusal is a JSON body ``{"detail": "..."}``, like the app's other errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised inside ``receive`` when a streamed body passes its limit (status 413).

    An HTTP exception, so a framework that catches errors while reading a body passes it on
    instead of calling it a parse error.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


async def send_json_error(send: Send, status: int, detail: str) -> None:
    """Send a complete JSON error response ``{"detail": detail}`` through ``send``."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _size_text(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} MiB"
    if size >= 1 << 10:
        return f"{size / (1 << 10):.0f} KiB"
    return f"{size} bytes"


class BodyLimit:
    """Refuse request bodies larger than a per-path limit with ``413``.

    Parameters
    ----------
    app : ASGI app
        The app to protect.
    default_limit : int
        Largest body, in bytes, accepted on paths not named in ``limits``.
    limits : mapping of str to int
        Larger (or smaller) limits for exact paths, e.g. ``{"/api/upload": 2_000_000}``.
    """

    def __init__(self, app: ASGIApp, default_limit: int, limits: Mapping[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default_limit)
        too_large = (
            f"The request body is larger than the {_size_text(limit)} this endpoint accepts; "
            "send a smaller file or fewer values."
        )
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            if not length.isdigit():
                detail = f"Content-Length must be a number, got {length!r}."
                await send_json_error(send, 400, detail)
                return
            if int(length) > limit:
                await send_json_error(send, 413, too_large)
                return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(too_large)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await send_json_error(send, 413, too_large)


class SameOriginWrites:
    """Refuse ``POST`` requests sent by a page from another origin, with ``403``.

    Browsers add an ``Origin`` header to cross-site ``POST`` requests; its host and port must
    match the ``Host`` the request was sent to. Requests without ``Origin`` (command-line
    clients, tests) pass.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc != headers.get("host", ""):
                await send_json_error(
                    send,
                    403,
                    f"Requests from {origin!r} may not change this explorer; open the page "
                    "from the address the server printed.",
                )
                return
        await self.app(scope, receive, send)


#: Host names that always mean this machine.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """True if ``host`` (a name or an address) only reaches this machine."""
    import ipaddress

    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class LoopbackHostOnly:
    """Refuse requests whose ``Host`` header is not a loopback name, with ``421``.

    A server bound to 127.0.0.1 can still be reached by a web page through DNS rebinding
    (a foreign name that resolves to 127.0.0.1); such requests carry the foreign name in
    ``Host`` and are refused here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "")
            hostname = urlsplit(f"//{host}").hostname or ""
            if not is_loopback(hostname):
                await send_json_error(
                    send, 421, f"this explorer only answers requests for localhost, not {host!r}."
                )
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Add fixed headers to every response, and ``Cache-Control: no-store`` under a prefix.

    Parameters
    ----------
    app : ASGI app
    headers : mapping of str to str
        Added to every response (lower-case names).
    no_store_prefix : str
        Responses to paths starting with it are never cached (live model answers).
    """

    def __init__(
        self, app: ASGIApp, headers: Mapping[str, str], no_store_prefix: str = "/api/"
    ) -> None:
        self.app = app
        self.headers = [(name.encode(), value.encode()) for name, value in headers.items()]
        self.no_store_prefix = no_store_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(self.headers)
        if scope["path"].startswith(self.no_store_prefix):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
