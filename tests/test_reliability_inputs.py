"""Reliability: arbitrary Unicode and hostile questions through the API, the CLI and the web API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag import assistant as assistant_module
from rag import cli
from rag.errors import QuestionError
from rag.ingest.text import split_sentences, tokenize
from rag.settings import MAX_QUESTION_CHARS, validate_question
from ui import app as ui

from .conftest import CORPUS

ROOT = Path(__file__).resolve().parents[1]
# Every code point, lone surrogates included: they arrive in JSON ("\ud800") from the web API.
ANY_CHAR = st.characters(exclude_categories=())
WORDS = ["Xinjiang", "sales", "grow", "percent", "2024", "新疆", "Chongqing", "618", "JD", "$6.3"]
QUESTIONS = st.one_of(
    st.text(ANY_CHAR, max_size=300),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(ANY_CHAR, max_size=5)), max_size=30).map(
        " ".join
    ),
)
MEGABYTE = "How much did sales grow? " * 42_000  # about 1 MB
HOSTILE = {
    "nul bytes": "How much did\x00 Xinjiang\x00 sales grow?\x00",
    "rtl marks": "\u202eHow much did \u200fXinjiang\u200f live-streaming sales grow?\u202c",
    "emoji only": "🛒📈🔥🇨🇳👍🏽",
    "chinese": "新疆直播电商销售额增长了多少？",
    "html": '<script>alert(1)</script><img src=x onerror="alert(2)"> Xinjiang sales?',
    "sql": "'; DROP TABLE articles; -- OR 1=1 UNION SELECT * FROM users",
    "lone surrogate": "How much did \ud800Xinjiang sales grow?\udfff",
}
REFUSED = {"megabyte": (MEGABYTE, "limit is 2,000"), "only nul": ("\x00\x00 \x00", "empty")}


def check_answer(answer: dict, question: str, articles: dict) -> None:
    """What every answer, from any interface, must satisfy."""
    assert answer["question"] == question
    assert 0.0 <= answer["confidence"] <= 1.0 and answer["text"]
    for item in answer["evidence"]:
        assert articles[item["doc_id"]].text[item["start"] : item["end"]] == item["text"]


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=400, deadline=timedelta(seconds=2))
@given(st.text(ANY_CHAR, max_size=2000))
def test_split_sentences_partitions_any_text(text: str) -> None:
    spans = split_sentences(text)
    position = 0
    for start, end in spans:
        assert position <= start < end <= len(text)
        assert text[position:start].strip() == ""  # only white space falls between sentences
        assert text[start:end] == text[start:end].strip()
        position = end
    assert text[position:].strip() == ""


@settings(max_examples=400, deadline=timedelta(seconds=2))
@given(st.text(ANY_CHAR, max_size=2000), st.booleans())
def test_tokenize_any_text(text: str, keep_stopwords: bool) -> None:
    tokens = tokenize(text, keep_stopwords=keep_stopwords)
    assert all(isinstance(t, str) and t and not any(c.isspace() for c in t) for t in tokens)
    assert tokens == tokenize(text, keep_stopwords=keep_stopwords)  # deterministic


@settings(
    max_examples=60,
    deadline=timedelta(seconds=10),  # a hang, not a slow example on a shared 2-core machine
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(question=QUESTIONS)
def test_ask_any_unicode(assistant, question: str) -> None:
    articles = {a.doc_id: a for a in assistant.articles}
    try:
        answer = assistant.ask(question)
    except QuestionError as exc:
        # The only refusal for a string under the limit: nothing left once control
        # characters and white space are gone, with a hint of what to type instead.
        assert "question is empty" in str(exc) and "type a question" in str(exc)
        assert not "".join(c for c in question if c.isprintable()).strip() or len(question) == 0
        return
    check_answer(answer.to_dict(), question, articles)


@pytest.mark.parametrize(
    ("question", "error", "message"),
    [
        (b"How much?", TypeError, "question must be a string, got bytes"),
        (None, TypeError, "question must be a string, got NoneType"),
        ("x" * (MAX_QUESTION_CHARS + 1), QuestionError, "Ask the question itself"),
        ("\x00\x1f\x7f\ud800 \t", QuestionError, "type a question such as"),
    ],
)
def test_bad_question_message_says_what_to_change(question, error, message) -> None:
    with pytest.raises(error, match=message):
        validate_question(question)


def test_megabyte_question_is_refused_at_once(assistant) -> None:
    started = time.perf_counter()
    with pytest.raises(QuestionError, match="limit is 2,000"):
        assistant.ask(MEGABYTE)
    assert time.perf_counter() - started < 0.5


# --- the CLI ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("cli-index"))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_cli_ask_hostile(name, assistant, embedder, cli_index, monkeypatch, capsys) -> None:
    # The real `rag ask` path, reusing the session's loaded model instead of loading it again.
    monkeypatch.setattr(assistant_module, "Embedder", lambda *args, **kwargs: embedder)
    question = HOSTILE[name]
    code = cli.main(["ask", question, "--json", "--corpus", str(CORPUS), "--index", cli_index])
    out, err = capsys.readouterr()
    assert code == 0, err
    check_answer(json.loads(out), question, {a.doc_id: a for a in assistant.articles})


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_cli_refuses_with_one_line(name, capsys) -> None:
    question, message = REFUSED[name]
    assert cli.main(["ask", question, "--corpus", str(CORPUS)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err) < 500


def test_cli_subprocess_refuses_oversized_question_before_loading_the_model() -> None:
    # 100 kB: a single argv string may not exceed 128 kB on Linux, so 1 MB cannot reach argv.
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "sales? " * 16_000],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 2 and "limit is 2,000" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert time.perf_counter() - started < 30


@pytest.mark.slow
def test_cli_subprocess_answers_hostile_text(tmp_path: Path, assistant) -> None:
    question = HOSTILE["html"] + " " + HOSTILE["sql"] + HOSTILE["rtl marks"]
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", question, "--json",
         "--corpus", str(CORPUS), "--index", str(tmp_path / "i")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    check_answer(json.loads(done.stdout), question, {a.doc_id: a for a in assistant.articles})


# --- the web endpoint ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(assistant):
    app, url = ui.launch(assistant, port=0, block=False, quiet=True)
    yield url
    app.close()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def raw_predict(url: str, question: str) -> dict:
    """POST the question as ASCII-escaped JSON, as any HTTP client may, and read the result."""
    import httpx

    body = json.dumps({"data": [question]})  # "\\ud800" escapes: valid JSON for any str
    with httpx.Client(base_url=url, timeout=60) as http:
        event = http.post("gradio_api/call/ask", content=body,
                          headers={"content-type": "application/json"}).json()["event_id"]
        stream = http.get(f"gradio_api/call/ask/{event}").text
    data = [line[5:] for line in stream.splitlines() if line.startswith("data:")]
    assert "event: complete" in stream, stream[:500]
    return json.loads(data[-1])[0]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_web_ask_hostile(name, client, server, assistant) -> None:
    question = HOSTILE[name]
    if name == "lone surrogate":  # gradio_client cannot encode it; a browser's JSON can
        result = raw_predict(server, question)
    else:
        result = client.predict(question, api_name="/ask")
    check_answer(result, question, {a.doc_id: a for a in assistant.articles})


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_web_refuses_with_a_message(name, client) -> None:
    question, message = REFUSED[name]
    started = time.perf_counter()
    with pytest.raises(Exception, match=message):
        client.predict(question, api_name="/ask")
    assert time.perf_counter() - started < 10
    assert client.predict("Is it still up?", api_name="/ask")["question"] == "Is it still up?"
