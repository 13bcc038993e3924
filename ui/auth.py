"""Who may use a server others can reach: credentials from the environment or a file, never argv."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import math
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from rag.errors import SettingsError

from .throttle import Throttle

log = logging.getLogger(__name__)

AUTH_ENV = "RAG_AUTH"  # "user:password"
AUTH_FILE_ENV = "RAG_AUTH_FILE"  # a file of "user:password" lines
MIN_PASSWORD_CHARS = 12
Credentials = list[tuple[str, str]]
# Gradio routes that answer without checking its login; the page's other routes check it.
GRADIO_UNCHECKED = frozenset(
    {"/openapi.json", "/gradio_api/app_id", "/gradio_api/cancel", "/gradio_api/reset"}
)


def credentials() -> Credentials:
    """The users allowed in, from RAG_AUTH or the file RAG_AUTH_FILE names; [] when neither.

    Never from the command line, where other users of the machine can read them (`ps`).
    """
    lines: list[str] = []
    if os.environ.get(AUTH_ENV):
        lines.append(os.environ[AUTH_ENV])
    if path := os.environ.get(AUTH_FILE_ENV):
        try:
            lines += Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SettingsError(f"{AUTH_FILE_ENV}={path!r} cannot be read: {exc}") from exc
    users = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, colon, password = line.strip().partition(":")
        if not colon or not user or not password:
            raise SettingsError(
                f"credential {number} is not user:password (in {AUTH_ENV} or {AUTH_FILE_ENV})"
            )
        if len(password) < MIN_PASSWORD_CHARS:
            raise SettingsError(
                f"credential {number} (user {user!r}): the password has {len(password)} "
                f"characters; use at least {MIN_PASSWORD_CHARS}, or guessing it takes minutes"
            )
        users.append((user, password))
    return users


def check_exposure(host: str, users: Credentials) -> None:
    """Refuse to serve beyond this machine without users to let in."""
    if users or is_loopback(host):
        return
    raise SettingsError(
        f"serving on {host} lets other machines in, so it needs a login: set {AUTH_ENV}="
        f"user:password, or {AUTH_FILE_ENV} to a file of user:password lines, then start again "
        "(or serve on 127.0.0.1)"
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def protect(api: FastAPI, users: Credentials) -> None:
    """HTTP Basic on /api, a login on the gradio routes that skip gradio's own check, and failed
    attempts at either (or at the page's login form) logged and throttled (`ui.throttle`)."""
    throttle = Throttle()

    @api.middleware("http")
    async def login_required(request: Request, call_next):
        path = request.url.path.rstrip("/") or "/"
        client = request.client.host if request.client else "unknown"
        if request.method == "POST" and path == "/login":
            return await _login_form(request, call_next, throttle, client)
        on_api = request.url.path.startswith("/api/")
        if not on_api and (path not in GRADIO_UNCHECKED or _page_session(request)):
            return await call_next(request)
        if wait := throttle.wait(client):
            return _too_many(wait)
        given = _basic_credentials(request)
        if given is not None and _allowed(*given, users):
            return await call_next(request)
        if given is not None:  # credentials sent, and wrong: a guess
            _failed(throttle, client, given[0])
        return JSONResponse(
            {"status": 401, "message": "log in: HTTP Basic credentials of an allowed user"},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="News QA"'},
        )


async def _login_form(request: Request, call_next, throttle: Throttle, client: str) -> Response:
    """Gradio's login form, throttled: it answers 400 to a wrong password."""
    if wait := throttle.wait(client):
        return _too_many(wait)
    body = await request.body()  # cached: gradio reads it again
    response = await call_next(request)
    if response.status_code >= 400:
        user = parse_qs(body.decode("utf-8", "replace")).get("username", [""])[0]
        _failed(throttle, client, user)
    return response


def _failed(throttle: Throttle, client: str, user: str) -> None:
    failures = throttle.failed(client)
    # Never the password: the log may be read by more people than the users file.
    log.warning("failed login as %r from %s (%d in a row)", user[:64], client, failures)


def _too_many(wait: float) -> JSONResponse:
    seconds = math.ceil(wait)
    return JSONResponse(
        {"status": 429, "message": f"too many failed logins; try again in {seconds} s"},
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )


def _page_session(request: Request) -> bool:
    """Whether the request carries the cookie of a login to the chat page (gradio's session)."""
    for route in request.app.routes:
        page = getattr(route, "app", None)
        if hasattr(page, "tokens") and hasattr(page, "cookie_id"):
            cookies = (f"access-token-{page.cookie_id}", f"access-token-unsecure-{page.cookie_id}")
            return any(request.cookies.get(name) in page.tokens for name in cookies)
    return False


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) of an HTTP Basic header; None without one, ("", "") when malformed."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def _allowed(user: str, password: str, users: Credentials) -> bool:
    # Every user compared, in constant time: the answer's timing says nothing of who exists.
    matches = [
        secrets.compare_digest(user.encode(), known.encode())
        & secrets.compare_digest(password.encode(), secret.encode())
        for known, secret in users
    ]
    return any(matches)
