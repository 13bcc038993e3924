"""A server others can reach needs a login: refused without one, enforced on the API and page."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from rag import cli
from rag.errors import SettingsError
from ui.app import launch
from ui.auth import check_exposure, credentials


def _get(url: str, user: str | None = None, password: str = "", data: bytes | None = None):
    request = urllib.request.Request(url, data=data)
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def test_serving_beyond_loopback_without_a_login_is_refused(monkeypatch, capsys) -> None:
    monkeypatch.delenv("RAG_AUTH", raising=False)
    monkeypatch.delenv("RAG_AUTH_FILE", raising=False)
    with pytest.raises(SettingsError, match="needs a login: set RAG_AUTH"):
        check_exposure("0.0.0.0", credentials())
    for host in ("127.0.0.1", "::1", "localhost"):
        check_exposure(host, [])
    # From the command line: refused before the model loads or a port opens.
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "needs a login" in capsys.readouterr().err


def test_credentials_come_from_the_environment_or_a_file(monkeypatch, tmp_path) -> None:
    users = tmp_path / "users"
    users.write_text("# analysts\nana:s3cret\n\nbo:pa:ss\n")
    monkeypatch.setenv("RAG_AUTH", "root:toor")
    monkeypatch.setenv("RAG_AUTH_FILE", str(users))
    assert credentials() == [("root", "toor"), ("ana", "s3cret"), ("bo", "pa:ss")]
    users.write_text("ana\n")
    with pytest.raises(SettingsError, match="credential 2 is not user:password"):
        credentials()
    monkeypatch.setenv("RAG_AUTH_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="cannot be read"):
        credentials()


def test_with_users_the_api_and_the_page_ask_for_a_login(assistant, monkeypatch) -> None:
    monkeypatch.setenv("RAG_AUTH", "ana:s3cret")
    monkeypatch.delenv("RAG_AUTH_FILE", raising=False)
    server, url = launch(assistant, host="0.0.0.0", port=0, block=False, quiet=True)
    try:
        status, body, headers = _get(url + "api/health")
        assert status == 401 and json.loads(body)["status"] == 401
        assert headers["WWW-Authenticate"].startswith("Basic")
        assert _get(url + "api/health", "ana", "wrong")[0] == 401
        assert _get(url + "api/health", "eve", "s3cret")[0] == 401
        status, body, _ = _get(url + "api/health", "ana", "s3cret")
        assert status == 200 and json.loads(body)["status"] == "ok"
        # The chat page: gradio's login, and nothing of the app without it.
        assert _get(url + "config")[0] == 401
        form = urllib.parse.urlencode({"username": "ana", "password": "wrong"}).encode()
        assert _get(url + "login", data=form)[0] >= 400
    finally:
        server.close()
