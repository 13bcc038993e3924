"""Who may use a server others can reach: credentials from the environment or a file, never argv."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rag.errors import SettingsError

AUTH_ENV = "RAG_AUTH"  # "user:password"
AUTH_FILE_ENV = "RAG_AUTH_FILE"  # a file of "user:password" lines
Credentials = list[tuple[str, str]]


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


def protect_api(api: FastAPI, users: Credentials) -> None:
    """HTTP Basic authentication on /api (the chat page has gradio's login)."""

    @api.middleware("http")
    async def basic_auth(request: Request, call_next):
        if not request.url.path.startswith("/api/") or _allowed(request, users):
            return await call_next(request)
        return JSONResponse(
            {"status": 401, "message": "log in: HTTP Basic credentials of an allowed user"},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="News QA"'},
        )


def _allowed(request: Request, users: Credentials) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # Every user compared, in constant time: the answer's timing says nothing of who exists.
    matches = [
        secrets.compare_digest(user.encode(), known.encode())
        & secrets.compare_digest(password.encode(), secret.encode())
        for known, secret in users
    ]
    return any(matches)
