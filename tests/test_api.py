"""The JSON API on a real server: answers, each kind of bad input, a fuzz run from its schema."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from rag import __version__, cli
from rag.scope import Scope
from ui.api import MAX_BATCH, MAX_BODY_BYTES, build_api
from ui.app import launch
from ui.library import Library
from ui.server import Server, bind

from .conftest import CORPUS

GOLD = [json.loads(line) for line in (CORPUS / "gold_qa.jsonl").read_text().splitlines()]
QUESTION = "How much did Xinjiang live-streaming sales grow?"


@pytest.fixture(scope="module")
def server(assistant):
    running, url = launch(assistant, port=0, block=False, quiet=True)
    yield url
    running.close()


def call(url: str, path: str, body: object = None, *, raw: bytes | None = None):
    """(status, JSON) of a GET (no body) or a POST."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_ask_returns_the_answer_as_python_gives_it(server, assistant) -> None:
    status, data = call(server, "api/ask", {"question": QUESTION, "top_k": 2, "mode": "hybrid"})
    assert status == 200
    assert data == assistant.ask(QUESTION, top_k=2, mode="hybrid").to_dict()


def test_gold_answers_are_the_same_from_the_api_python_and_the_cli(
    server, assistant, capsys
) -> None:
    questions = [g["question"] for g in GOLD[:12]]
    status, data = call(server, "api/ask_many", {"questions": questions})
    assert status == 200
    python = [a.to_dict() for a in assistant.ask_many(questions)]
    assert data["answers"] == python
    for question, expected in zip(questions[:3], python, strict=False):
        assert cli.main(["ask", question, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["evidence"] == expected["evidence"]


def test_articles_and_health(server, assistant) -> None:
    status, data = call(server, "api/articles")
    assert status == 200
    assert [a["doc_id"] for a in data["articles"]] == [a.doc_id for a in assistant.articles]
    status, health = call(server, "api/health")
    assert status == 200 and health == {"status": "ok", "version": __version__, "articles": 5}


def test_figures_as_python_gives_them_with_the_same_filters(server, assistant) -> None:
    status, data = call(server, "api/figures?measure=growth&about=online%20retail%20sales")
    assert status == 200
    python = assistant.figures(measure="growth", about="online retail sales")
    assert [(f["doc_id"], f["value"]) for f in data["figures"]] == [
        (r.doc_id, r.value) for r in python
    ]
    assert any(f["value"] == "15 percent" and f["period"] == "H1 2024" for f in data["figures"])
    status, data = call(server, "api/figures?measure=rate")
    assert status == 422 and "measure" in data["message"]
    status, data = call(server, "api/figures?article=nope")
    assert status == 400 and "/api/articles lists them" in data["message"]
    status, data = call(server, "api/figures?period=H1%202024&since=2024-07")
    assert status == 200 and data["figures"]
    assert [f["value"] for f in data["figures"]] == [
        r.value for r in assistant.figures(period="H1 2024", scope=Scope(since="2024-07"))
    ]
    for query, says in (("period=soon", "period must be a year"),
                        ("since=July", "since must be a date"),
                        ("until=1990", "no indexed article is among")):  # fmt: skip
        status, data = call(server, f"api/figures?{query}")
        assert status == 400 and says in data["message"], query


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("api/ask", {"question": ""}, 400, "question is empty"),
        ("api/ask", {"question": "x" * 2500}, 400, "2,000"),
        ("api/ask", {"question": 5}, 422, "question: Input should be a valid string"),
        ("api/ask", {}, 422, "question: Field required"),
        ("api/ask", {"question": "q", "top_k": 0}, 422, "top_k"),
        ("api/ask", {"question": "q", "mode": "fast"}, 422, "mode"),
        ("api/ask", [QUESTION], 422, "body"),
        ("api/ask_many", {"questions": []}, 422, "questions"),
        ("api/ask_many", {"questions": ["ok?"] * (MAX_BATCH + 1)}, 422, "questions"),
        ("api/ask_many", {"questions": ["fine?", " "]}, 400, "questions[1]: question is empty"),
    ],
)
def test_bad_input_is_a_json_error_that_says_what_to_change(server, path, body, status, says):
    got, data = call(server, path, body)
    assert got == status and data["status"] == status
    assert says in data["message"] and "Traceback" not in data["message"]


def test_malformed_and_oversized_bodies(server) -> None:
    status, data = call(server, "api/ask", raw=b'{"question": ')
    assert status == 422 and "not valid JSON" in data["message"]
    status, data = call(server, "api/ask", raw=b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert status == 413 and f"{MAX_BODY_BYTES:,}" in data["message"]
    status, data = call(server, "api/nowhere")
    assert status == 404 and "/api/docs" in data["message"]
    status, data = call(server, "api/health", {"question": "x"})  # a POST where only GET is
    assert status == 405 and data["status"] == 405


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE"])
def test_other_methods_on_an_endpoint_are_405_in_the_api_shape(server, method) -> None:
    request = urllib.request.Request(server + "api/ask", method=method)
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=60)
    response = raised.value
    assert response.code == 405 and response.headers["Allow"] == "POST"
    assert response.headers["Content-Type"] == "application/json"
    if method != "HEAD":  # a HEAD answer has no body
        assert json.loads(response.read()) == {"status": 405, "message": "/api/ask takes POST"}


def test_fuzzed_requests_never_fail_the_server(server) -> None:
    """Requests generated from the API's own OpenAPI document: never a 5xx, always JSON."""
    schema = schemathesis.openapi.from_url(server + "api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {
        "/api/ask", "/api/ask_many", "/api/articles", "/api/figures", "/api/health",
        "/api/upload",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            response = case.call(timeout=60)
            assert response.status_code < 500, response.text
            body = response.json()
            assert isinstance(body, dict)
            if response.status_code >= 400:
                assert set(body) == {"status", "message"}
                assert body["status"] == response.status_code

        check()


class Stalled:
    """An assistant whose batches wait for `release`; its single questions answer at once."""

    articles = ()

    def __init__(self) -> None:
        self.release = threading.Event()
        self.batches = threading.Semaphore(0)

    def ask(self, question: str, **_: object) -> SimpleNamespace:
        return SimpleNamespace(to_dict=lambda: {"question": question})

    def ask_many(self, questions: list[str], **_: object) -> list[SimpleNamespace]:
        self.batches.release()
        self.release.wait(120)
        return [self.ask(q) for q in questions]


def test_batches_never_leave_a_single_question_waiting_for_a_thread() -> None:
    stalled = Stalled()
    api = build_api(Library(stalled), workers=2)
    server = Server(api, bind("127.0.0.1", 0))
    batch = {"questions": ["How much did sales grow?"] * 4}
    waiting = [threading.Thread(target=call, args=(server.url, "api/ask_many", batch))
               for _ in range(4)]  # fmt: skip
    try:
        for thread in waiting:
            thread.start()
        assert stalled.batches.acquire(timeout=60)  # a batch is being answered
        # Every thread of the batch lane is taken and more batches queue: a question still
        # finds a thread of its own.
        status, data = call(server.url, "api/ask", {"question": "Still answering?"})
        assert status == 200 and data == {"question": "Still answering?"}
    finally:
        stalled.release.set()
        for thread in waiting:
            thread.join(120)
        server.close()
