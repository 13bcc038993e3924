"""Only uploaded files, only requests by the server's own names, safe headers on every answer."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from gradio.utils import get_upload_folder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import is_loopback

ALLOWED_HOSTS_ENV = "RAG_ALLOWED_HOSTS"  # "qa.example.org,10.0.0.5": names beyond loopback
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD"})  # read-only: every other method changes state
# No other site may frame the page (clickjacking), no response is read as another type than
# it says, and no URL of the page leaks to the sites its links lead to.
SECURITY_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class UploadRefused(ValueError):
    """An upload event named a file that was not uploaded to this server's page."""


def upload_folder() -> Path:
    """Gradio's upload folder, symlinks resolved: the one place an uploaded file may be."""
    return Path(get_upload_folder()).resolve()


def uploaded_files(paths: Sequence[str]) -> list[tuple[str, Path]]:
    """(name, resolved path) of each file an upload event names; UploadRefused, before
    anything is read, when one is not a file inside the upload folder once symlinks are
    resolved (a client can name any path in the event's data: /etc/passwd, a key)."""
    folder = upload_folder()
    files = []
    for path in paths:
        name = Path(path).name
        try:
            real = Path(path).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a symlink loop
            real = None
        if real is None or not real.is_relative_to(folder) or not real.is_file():
            raise UploadRefused(
                f"{name} was not uploaded through this page, so it was not read; nothing was "
                "added. Choose the file with the page's upload box."
            )
        files.append((name, real))
    return files


def discard(paths: Iterable[Path]) -> None:
    """Delete gradio's copies of handled uploads (it keeps them forever), never a file outside
    its upload folder; their hash-named folders go too once empty."""
    folder = upload_folder()
    for path in paths:
        real = path.resolve()
        if not real.is_relative_to(folder) or real == folder:
            continue
        real.unlink(missing_ok=True)
        if real.parent != folder:
            try:
                real.parent.rmdir()
            except OSError:  # another upload of the same content still lies there
                pass


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names a request may address: loopback, the address bound (the URL printed, "0.0.0.0"
    included: an address, which no rebinding domain can be), `extra` and RAG_ALLOWED_HOSTS
    (the names a server beyond loopback is reached by)."""
    names = {*LOOPBACK_NAMES, bind, *extra, *os.environ.get(ALLOWED_HOSTS_ENV, "").split(",")}
    return frozenset(name.strip().strip("[]").lower() for name in names if name.strip())


def refusal(method: str, host: str | None, origin: str | None, names: frozenset[str]) -> str:
    """Why a request is refused ("" when it is not): a Host header that is none of `names`
    (a DNS-rebinding page reaches a loopback server under its own domain), or a state-changing
    request from a page of another origin ("null" included: sandboxed frames and files)."""
    hostname, port = _host_port(host or "")
    if hostname is None or not (hostname in names or is_loopback(hostname)):
        shown = (host or "")[:100] or "no Host header"
        return (
            f"this server is not reached as {shown!r}; its operator can allow that name with "
            f"`rag serve --allowed-host NAME` or {ALLOWED_HOSTS_ENV}"
        )
    if method.upper() in SAFE_METHODS or origin is None:
        return ""  # no Origin: not sent by a browser page, so no forgery by one
    parts = urlsplit(origin)
    try:
        default = 443 if parts.scheme == "https" else 80
        same = (
            parts.scheme in ("http", "https")
            and parts.hostname == hostname
            and (parts.port or default) == (port or default)
        )
    except ValueError:  # a port that is not a number
        same = False
    if not same:
        return f"requests from pages of another site ({origin[:100]!r}) are refused"
    return ""


class RequestGuard:
    """ASGI middleware refusing, in the API's error shape, the requests `refusal` refuses, and
    adding SECURITY_HEADERS to every response."""

    def __init__(self, app: ASGIApp, names: frozenset[str]) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {key.decode("latin-1"): value for key, value in scope["headers"]}
        host, origin = headers.get("host"), headers.get("origin")
        why = refusal(
            scope.get("method", "GET"),
            None if host is None else host.decode("latin-1"),
            None if origin is None else origin.decode("latin-1"),
            self.names,
        )
        if not why:
            return await self.app(scope, receive, _with_headers(send))
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        body = json.dumps({"status": 403, "message": why}).encode()
        await send({
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *SECURITY_HEADERS]}
        await send(message)

    return sending


def _host_port(host: str) -> tuple[str | None, int | None]:
    try:
        parts = urlsplit("//" + host)
        return parts.hostname, parts.port
    except ValueError:  # "[::1", a port that is not a number
        return None, None
