"""A server others can reach needs a login: refused without one, enforced on the API and page."""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

import pytest

from rag import cli
from rag.errors import SettingsError
from ui.app import launch
from ui.auth import check_exposure, credentials
from ui.throttle import FORGET_AFTER, FREE_FAILURES, MAX_WAIT, OVERALL_PER_MINUTE, Throttle

PASSWORD = "s3cret-s3cret-s3cret"


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
    users.write_text(f"# analysts\nana:{PASSWORD}\n\nbo:pa:ss-pa:ss-pa:ss\n")
    monkeypatch.setenv("RAG_AUTH", "root:toor-toor-toor")
    monkeypatch.setenv("RAG_AUTH_FILE", str(users))
    assert credentials() == [
        ("root", "toor-toor-toor"), ("ana", PASSWORD), ("bo", "pa:ss-pa:ss-pa:ss")
    ]  # fmt: skip
    users.write_text("ana\n")
    with pytest.raises(SettingsError, match="credential 2 is not user:password"):
        credentials()
    monkeypatch.setenv("RAG_AUTH_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="cannot be read"):
        credentials()


def test_a_password_under_12_characters_is_refused_at_start_up(monkeypatch, capsys) -> None:
    monkeypatch.setenv("RAG_AUTH", "ana:s3cret")
    monkeypatch.delenv("RAG_AUTH_FILE", raising=False)
    with pytest.raises(SettingsError, match=r"user 'ana'\): the password has 6 characters; use"):
        credentials()
    assert cli.main(["serve", "--port", "0"]) == 2  # before the model loads
    assert "use at least 12" in capsys.readouterr().err


@pytest.fixture
def guarded(assistant, monkeypatch):
    """A server with one user, on all addresses (so a login is required)."""
    monkeypatch.setenv("RAG_AUTH", f"ana:{PASSWORD}")
    monkeypatch.delenv("RAG_AUTH_FILE", raising=False)
    server, url = launch(assistant, host="0.0.0.0", port=0, block=False, quiet=True)
    yield url.replace("0.0.0.0", "127.0.0.1")
    server.close()


def test_with_users_the_api_and_the_page_ask_for_a_login(guarded) -> None:
    url = guarded
    status, body, headers = _get(url + "api/health")
    assert status == 401 and json.loads(body)["status"] == 401
    assert headers["WWW-Authenticate"].startswith("Basic")
    assert _get(url + "api/health", "ana", "wrong")[0] == 401
    assert _get(url + "api/health", "eve", PASSWORD)[0] == 401
    status, body, _ = _get(url + "api/health", "ana", PASSWORD)
    assert status == 200 and json.loads(body)["status"] == "ok"
    # The chat page: gradio's login, and nothing of the app without it.
    assert _get(url + "config")[0] == 401
    form = urllib.parse.urlencode({"username": "ana", "password": "wrong"}).encode()
    assert _get(url + "login", data=form)[0] >= 400


def test_gradio_routes_that_skip_its_login_check_are_behind_the_login(guarded) -> None:
    url = guarded
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    routes = [("openapi.json", None), ("gradio_api/app_id", None),
              ("gradio_api/cancel", b"{}"), ("gradio_api/reset", b"{}")]  # fmt: skip
    for path, data in routes:
        assert _get(url + path, data=data)[0] == 401, path
        assert _get(url + path, "ana", PASSWORD, data=data)[0] != 401, path
    form = urllib.parse.urlencode({"username": "ana", "password": PASSWORD}).encode()
    assert opener.open(url + "login", data=form, timeout=60).status == 200
    for path, data in routes:
        request = urllib.request.Request(url + path, data=data)
        try:
            status = opener.open(request, timeout=60).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status != 401, path  # the page's login session lets its user in


def test_failed_logins_are_throttled_and_logged_without_the_password(guarded, caplog) -> None:
    url = guarded
    with caplog.at_level(logging.WARNING, logger="ui.auth"):
        for _ in range(FREE_FAILURES):
            assert _get(url + "api/health", "ana", "guess-guess-guess")[0] == 401
        # Now even the right password waits: a guesser cannot tell it found it.
        status, body, headers = _get(url + "api/health", "ana", PASSWORD)
        assert status == 429 and int(headers["Retry-After"]) >= 1
        assert json.loads(body)["message"].startswith("too many failed logins; try again in")
        form = urllib.parse.urlencode({"username": "ana", "password": PASSWORD}).encode()
        assert _get(url + "login", data=form)[0] == 429  # one count for the page and the API
    failures = [r.getMessage() for r in caplog.records if r.name == "ui.auth"]
    assert failures[0] == "failed login as 'ana' from 127.0.0.1 (1 in a row)"
    assert len(failures) == FREE_FAILURES and "guess" not in " ".join(failures)


def test_the_throttle_doubles_the_wait_per_client_and_caps_all_clients() -> None:
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    waits = []
    for _ in range(FREE_FAILURES + 3):
        throttle.failed("10.0.0.1")
        waits.append(throttle.wait("10.0.0.1"))
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8] and throttle.wait("10.0.0.2") == 0
    for _ in range(50):
        throttle.failed("10.0.0.1")
    assert throttle.wait("10.0.0.1") == MAX_WAIT
    now[0] += FORGET_AFTER
    assert throttle.wait("10.0.0.1") == 0  # a quiet quarter of an hour: forgotten
    for n in range(OVERALL_PER_MINUTE):  # one guess each from many addresses
        throttle.failed(f"10.1.{n // 250}.{n % 250}")
    assert throttle.wait("10.0.0.2") == 60  # then everyone waits for the minute to pass
    now[0] += 60
    assert throttle.wait("10.0.0.2") == 0


def test_every_spelling_of_an_api_path_asks_for_the_login(guarded) -> None:
    for path in ("api/health", "api/ask", "api//health", "api/%2E%2E/api/health", "api/health/",
                 "api/../api/health", "api/%68ealth", "api/docs", "api/openapi.json"):  # fmt: skip
        status, body, _ = _get(guarded + path)
        assert status in (401, 404) and b'"ok"' not in body and b"openapi" not in body, path
