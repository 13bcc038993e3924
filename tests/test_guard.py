"""The served page reads only files uploaded to it, and answers only under its own names."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from rag.assistant import Assistant
from ui.app import launch
from ui.guard import (
    UploadRefused,
    allowed_hosts,
    discard,
    refusal,
    upload_folder,
    uploaded_files,
)

from .conftest import CORPUS

SECRET = b"Zorblax Industries keeps launch code 7741 in the vault under Quillmoor Lane.\n"
SECRET_QUESTION = "What launch code does Zorblax Industries keep in the vault?"
ARTICLE = (Path(__file__).parent / "fixtures" / "uploads" / "guangzhou-retail.md").read_bytes()
PNG = (Path(__file__).parent / "fixtures" / "uploads" / "screenshot.txt").read_bytes()
PASSWORD = "correct-horse-battery"


# --- the rules, one by one ----------------------------------------------------------------------

NAMES = allowed_hosts("127.0.0.1", ["qa.example.org"])


@pytest.mark.parametrize(
    ("method", "host", "origin", "says"),
    [
        ("GET", "127.0.0.1:7860", None, ""),
        ("GET", "localhost:7860", None, ""),
        ("GET", "[::1]:7860", None, ""),
        ("GET", "127.0.0.2", None, ""),  # any loopback address is this machine
        ("GET", "QA.example.org", None, ""),  # configured, in any case
        ("GET", "rebind.attacker.example:7860", None, "not reached as"),
        ("POST", "rebind.attacker.example:7860", "http://rebind.attacker.example:7860", "not reac"),
        ("GET", None, None, "no Host header"),
        ("GET", "localhost:notaport", None, "not reached as"),
        ("POST", "127.0.0.1:7860", "http://127.0.0.1:7860", ""),
        ("POST", "127.0.0.1:7860", None, ""),  # not a browser: no page to forge a request
        ("POST", "127.0.0.1:7860", "http://evil.example", "another site"),
        ("POST", "127.0.0.1:7860", "http://127.0.0.1:9999", "another site"),  # another app
        ("POST", "127.0.0.1:7860", "null", "another site"),  # a sandboxed frame, a local file
        ("DELETE", "127.0.0.1:7860", "http://evil.example", "another site"),
        ("GET", "127.0.0.1:7860", "http://evil.example", ""),  # reading: CORS keeps it out
        ("POST", "qa.example.org", "https://qa.example.org", ""),  # behind a TLS proxy
    ],
)
def test_requests_must_address_this_server_and_come_from_its_own_pages(
    method: str, host: str | None, origin: str | None, says: str
) -> None:
    why = refusal(method, host, origin, NAMES)
    assert (says in why) if says else why == ""


def test_a_wildcard_bind_allows_loopback_its_address_and_configured_names(monkeypatch) -> None:
    monkeypatch.setenv("RAG_ALLOWED_HOSTS", "a.example, B.example ,")
    assert allowed_hosts("0.0.0.0") == {
        "localhost", "127.0.0.1", "::1", "0.0.0.0", "a.example", "b.example"
    }  # fmt: skip
    assert "10.0.0.5" in allowed_hosts("10.0.0.5")


def test_only_files_in_the_upload_folder_are_taken_symlinks_resolved(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    inside = upload_folder() / "abc123" / "article.md"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(ARTICLE)
    planted = upload_folder() / "def456" / "notes.txt"
    planted.parent.mkdir()
    planted.symlink_to(secret)
    assert uploaded_files([str(inside)]) == [("article.md", inside.resolve())]
    for path in (secret, planted, upload_folder() / ".." / "secret.txt", tmp_path / "missing"):
        with pytest.raises(UploadRefused, match="not uploaded through this page"):
            uploaded_files([str(inside), str(path)])
    # Handled uploads are deleted; nothing outside the upload folder ever is.
    discard([inside, secret])
    assert not inside.parent.exists() and secret.read_bytes() == SECRET


# --- the attack, through the page's real events -------------------------------------------------


class Client:
    """Requests to one served page as a script would send them, logged in when told to."""

    def __init__(self, url: str, user: tuple[str, str] | None) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.basic = {}
        if user:
            token = base64.b64encode(":".join(user).encode()).decode()
            self.basic = {"Authorization": f"Basic {token}"}
            form = urllib.parse.urlencode({"username": user[0], "password": user[1]})
            assert self.call("login", form.encode(), json_body=False)[0] == 200

    def call(
        self, path: str, data: object = None, *, json_body: bool = True, headers: dict | None = None
    ) -> tuple[int, bytes]:
        body = json.dumps(data).encode() if json_body and data is not None else data
        request = urllib.request.Request(self.url + path, data=body, headers=dict(headers or {}))
        if json_body and data is not None:
            request.add_header("Content-Type", "application/json")
        if path.startswith("api/"):
            for key, value in self.basic.items():
                request.add_header(key, value)
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def event(self, trigger: str, data: list) -> dict:
        """Run the page's event on `trigger` with `data`; its process_completed message."""
        status, body = self.call("config")
        assert status == 200
        dependencies = json.loads(body)["dependencies"]
        dependency = next(d for d in dependencies if any(t[1] == trigger for t in d["targets"]))
        session = uuid.uuid4().hex
        join = {
            "data": data,
            "fn_index": dependency["id"],
            "trigger_id": dependency["targets"][0][0],
            "session_hash": session,
            "event_data": None,
        }
        status, body = self.call("gradio_api/queue/join", join)
        assert status == 200, body
        request = urllib.request.Request(f"{self.url}gradio_api/queue/data?session_hash={session}")
        shown = []  # what the page showed on the way (a generator's updates)
        with self.opener.open(request, timeout=120) as stream:
            for line in stream:
                message = json.loads(line[5:]) if line.startswith(b"data:") else {}
                if message.get("msg") == "process_generating":
                    shown.append(json.dumps(message["output"]))
                if message.get("msg") == "process_completed":
                    return {**message, "shown": shown}
        raise AssertionError("the event never completed")

    def upload(self, name: str, content: bytes) -> str:
        """Upload a file as the page does; the path gradio stored it at."""
        boundary = uuid.uuid4().hex
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"'
        body = f"{head}\r\n\r\n".encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, answer = self.call("gradio_api/upload", body, json_body=False, headers=headers)
        assert status == 200, answer
        return json.loads(answer)[0]


def file_data(path: str | Path, name: str = "x.txt") -> dict:
    return {"path": str(path), "orig_name": name, "meta": {"_type": "gradio.FileData"}}


@pytest.fixture(params=[None, ("ana", PASSWORD)], ids=["no-login", "login"])
def served(request, fake_embedder, tmp_path: Path, monkeypatch):
    """A real server taking uploads into a copy of the corpus, with gradio's upload folder in
    tmp_path; with a login or without."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.delenv("RAG_AUTH_FILE", raising=False)
    monkeypatch.delenv("RAG_ALLOWED_HOSTS", raising=False)
    if request.param:
        monkeypatch.setenv("RAG_AUTH", ":".join(request.param))
    else:
        monkeypatch.delenv("RAG_AUTH", raising=False)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    assistant = Assistant.from_corpus(corpus, tmp_path / "index", embedder=fake_embedder)
    server, url = launch(
        assistant, port=0, block=False, quiet=True, corpus=corpus, index_dir=tmp_path / "index"
    )
    try:
        yield Client(url, request.param), corpus
    finally:
        server.close()


def holding(folder: Path, content: bytes) -> list[Path]:
    """The regular files under `folder` that hold `content`."""
    if not folder.exists():
        return []
    files = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return [path for path in files if content.strip() in path.read_bytes()]


def test_an_upload_event_naming_a_server_file_reads_stages_and_indexes_nothing(
    served, tmp_path: Path
) -> None:
    client, corpus = served
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    planted = upload_folder() / "planted" / "notes.txt"  # a link left in the upload folder
    planted.parent.mkdir(parents=True)
    planted.symlink_to(secret)
    for path in (secret, planted, f"{upload_folder()}/../secret.txt"):
        done = client.event("upload", [[file_data(path)], None])
        assert not done["success"] or "not uploaded through this page" in json.dumps(done)
    # The chat's text events carry file data just as well: gradio must not copy it either.
    done = client.event("submit", [file_data(secret), None, None, None, None, None])
    assert not done["success"]
    status, body = client.call("api/ask", {"question": SECRET_QUESTION})
    answer = json.loads(body)
    assert status == 200 and answer["missing"] == ["Zorblax Industries"]
    assert "Zorblax" not in json.dumps(answer["evidence"])
    status, body = client.call("api/articles")
    assert status == 200 and len(json.loads(body)["articles"]) == 5
    assert not list((corpus / "uploads").glob("*"))
    assert holding(upload_folder(), SECRET) == [] and holding(corpus, SECRET) == []
    # The page's own upload still works, and gradio's copies are deleted once handled, of the
    # refused files too.
    stored = client.upload("guangzhou-retail.md", ARTICLE)
    refused = client.upload("screenshot.txt", PNG)
    event = [[file_data(stored, "guangzhou-retail.md"), file_data(refused)], None]
    done = client.event("upload", event)
    assert done["success"] and "Added and indexed" in done["output"]["data"][1]
    assert "is a PNG image, not an article" in done["output"]["data"][1]
    assert "Checking the files, then indexing" in done["shown"][0]  # said before indexing
    assert [p.name for p in (corpus / "uploads").iterdir()] == ["guangzhou-retail.md"]
    assert holding(upload_folder(), ARTICLE) == [] and holding(upload_folder(), PNG) == []


def test_a_request_for_a_foreign_host_or_from_a_foreign_page_is_refused(served) -> None:
    client, corpus = served
    rebind = {"Host": "rebind.attacker.example", "Origin": "http://rebind.attacker.example"}
    for path in ("api/health", "config", ""):
        status, body = client.call(path, headers=rebind)
        assert status == 403 and "not reached as 'rebind.attacker.example'" in body.decode()
    stored = client.upload("guangzhou-retail.md", ARTICLE)
    join = {"data": [[file_data(stored)], None], "fn_index": 0, "session_hash": "s"}
    assert client.call("gradio_api/queue/join", join, headers=rebind)[0] == 403
    forged = {"Origin": "http://evil.example"}
    status, body = client.call("api/ask", {"question": SECRET_QUESTION}, headers=forged)
    assert status == 403 and json.loads(body)["message"].startswith("requests from pages of")
    assert client.call("gradio_api/queue/join", join, headers=forged)[0] == 403
    assert not (corpus / "uploads").exists()


def test_every_response_forbids_framing_sniffing_and_referrers(served) -> None:
    client, _ = served
    for path, headers in [("", {}), ("api/health", {}), ("config", {"Host": "evil.example"})]:
        request = urllib.request.Request(client.url + path, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=60)
        except urllib.error.HTTPError as exc:
            response = exc
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_gradio_file_routes_serve_no_file_of_the_server(served, tmp_path: Path) -> None:
    client, _ = served
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    folder = upload_folder()
    for path in (str(secret), f"{folder}/../secret.txt", f"{folder}/..%2Fsecret.txt",
                 "/etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd"):  # fmt: skip
        for route in ("gradio_api/file=", "gradio_api/file/"):
            status, body = client.call(route + path)
            assert status >= 400 and b"Zorblax" not in body and b"root:" not in body, path
