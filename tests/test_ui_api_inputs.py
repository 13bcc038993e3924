"""The JSON API's answers to a client's slips (issue 27, item 8): each says what to change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rag.settings import MAX_QUESTION_CHARS
from ui.api import build_api
from ui.library import Library

from .test_ui_app import FakeAssistant, article

QUESTION = "How much did sales rise?"


@pytest.fixture(scope="module")
def client():
    library = Library(FakeAssistant([article("Before.\n\nSales rose 42 percent in July.")]))
    with TestClient(build_api(library)) as client:
        yield client


@pytest.mark.parametrize("top_k", [True, False, "3", 2.5])
def test_top_k_must_be_a_whole_number_not_a_bool_or_text(client, top_k) -> None:
    response = client.post("/api/ask", json={"question": QUESTION, "top_k": top_k})
    assert response.status_code == 422
    assert response.json()["message"] == "top_k: Input should be a valid integer"
    batch = client.post("/api/ask_many", json={"questions": [QUESTION], "top_k": top_k})
    assert batch.status_code == 422 and "top_k" in batch.json()["message"]
    assert client.post("/api/ask", json={"question": QUESTION, "top_k": 3}).status_code == 200


@pytest.mark.parametrize("length", [MAX_QUESTION_CHARS + 1, 5_000, 9_000, 60_000])
def test_an_over_long_question_gets_one_message_whatever_its_length(client, length) -> None:
    response = client.post("/api/ask", json={"question": "x" * length})
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"question is {length:,} characters; the limit is {MAX_QUESTION_CHARS:,}. "
        "Ask the question itself, not a document"
    )
    batch = client.post("/api/ask_many", json={"questions": ["fine?", "x" * length]})
    assert batch.status_code == 400
    assert batch.json()["message"].startswith(f"questions[1]: question is {length:,} characters")


def test_the_schema_still_tells_the_question_limit(client) -> None:
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["AskRequest"]
    assert schema["properties"]["question"]["maxLength"] == MAX_QUESTION_CHARS


@pytest.mark.parametrize(
    ("headers", "sent"),
    [({}, "without a Content-Type"), ({"Content-Type": "text/plain"}, "as text/plain")],
)
def test_a_json_body_without_its_content_type_is_told_to_set_it(client, headers, sent) -> None:
    body = b'{"question": "How much did sales rise?"}'
    response = client.post("/api/ask", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["message"] == (
        f"the body was sent {sent}; send it as JSON, with the header Content-Type: application/json"
    )
    sent_right = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert sent_right.status_code == 200


def test_no_body_at_all_is_told_what_to_send(client) -> None:
    response = client.post("/api/ask")
    assert response.status_code == 422
    assert response.json()["message"].startswith("the request has no body; send a JSON object")


def test_swagger_ui_is_served_from_the_server(client) -> None:
    page = client.get("/api/docs").text
    assert "/api/docs/assets/swagger-ui-bundle.js" in page and "cdn." not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = client.get(f"/api/docs/assets/{asset}")
        assert response.status_code == 200 and len(response.content) > 100_000
