"""Concurrent sessions against the real web server, through its JSON API or its gradio endpoint."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

if TYPE_CHECKING:
    from ..assistant import Assistant

CLIENTS = 16
QUESTIONS_EACH = 25
XINJIANG = "How much did Xinjiang live-streaming sales grow?"
MEGABYTE = "How much did sales grow? " * 42_000


@dataclass(frozen=True)
class Request:
    """One question of the mix and how to tell that the server handled it right."""

    kind: str  # "ok": must be answered (or rightly abstained); "empty", "huge": must be refused
    question: str
    check: Callable[[Any], bool]  # on the answer dict, or on the refusal's message

    @property
    def refused(self) -> bool:
        return self.kind != "ok"


# Good, unanswerable and malformed questions; every client cycles through them, each from its
# own starting point, so all kinds are in flight at once.
MIX = (
    # An answer (not abstained) always has evidence, so the first check can index it.
    Request(
        "ok", XINJIANG, lambda r: not r["abstained"] and "56 percent" in r["evidence"][0]["text"]
    ),
    Request("ok", "Who won the 2022 FIFA World Cup final?", lambda r: r["abstained"]),
    Request("empty", "   \x00 ", lambda message: "question is empty" in message),
    Request("huge", MEGABYTE, lambda message: "limit is 2,000" in message),
    Request(
        "ok",
        "Where is JD's Asia No. 1 logistics hub in Chongqing located?",
        lambda r: "Asia No. 1" in " ".join(e["text"] for e in r["evidence"]),
    ),
)
KINDS = ("ok", "empty", "huge")


@dataclass(frozen=True)
class JsonRequest:
    """One request of a JSON API mix: the raw body, the status it must get, a check."""

    kind: str  # "ok", or how it is bad: "empty", "malformed", "oversized"; or what it asks
    body: bytes
    status: int
    check: Callable[[Any], bool]  # on the answer dict, or on the error's message
    method: str = "POST"
    path: str = "/api/ask"  # with its query string, if any


def _json(question: str) -> bytes:
    return json.dumps({"question": question}).encode()


JSON_MIX = (
    JsonRequest(
        "ok", _json(XINJIANG), 200,
        lambda r: not r["abstained"] and "56 percent" in r["evidence"][0]["text"],
    ),
    JsonRequest("ok", _json("Who won the 2022 FIFA World Cup final?"), 200,
                lambda r: r["abstained"]),
    JsonRequest("empty", _json("   \x00 "), 400, lambda m: "question is empty" in m),
    JsonRequest("malformed", b'{"question": "How much', 422, lambda m: "not valid JSON" in m),
    JsonRequest("oversized", _json(MEGABYTE), 413, lambda m: "request body is over" in m),
    JsonRequest(
        "ok", _json("Where is JD's Asia No. 1 logistics hub in Chongqing located?"), 200,
        lambda r: "Asia No. 1" in " ".join(e["text"] for e in r["evidence"]),
    ),
)
JSON_KINDS = ("ok", "empty", "malformed", "oversized")


@dataclass(frozen=True)
class LoadResult:
    """What `clients` sessions of `questions_each` requests saw; latencies in seconds."""

    clients: int
    questions_each: int
    requests: int
    failures: tuple[str, ...]  # one line per failed request: its kind and what went wrong
    p50_s: dict[str, float]  # by kind of request, and "all": every request together
    p95_s: dict[str, float]
    elapsed_s: float
    still_up: bool  # a fresh client got the right answer after the load

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.elapsed_s


def run_load(
    url: str,
    *,
    clients: int = CLIENTS,
    questions_each: int = QUESTIONS_EACH,
    api: str = "gradio",
    mix: Sequence[Request] | Sequence[JsonRequest] = (),
) -> LoadResult:
    """`clients` concurrent sessions, each sending `questions_each` requests of its mix in turn.

    `api` is "gradio" (the /ask endpoint through gradio_client, MIX) or "json" (the JSON API,
    JSON_MIX: POST /api/ask); `mix` replaces that API's mix.
    """
    session = _json_session if api == "json" else _session
    mix = mix or (JSON_MIX if api == "json" else MIX)
    kinds = tuple(dict.fromkeys(request.kind for request in mix))  # in the mix's order
    if clients < 1 or questions_each < len(mix):
        raise ValueError(
            f"run_load needs at least 1 client and {len(mix)} questions each, so that every "
            f"client asks every kind; got {clients} and {questions_each}"
        )
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        sessions = pool.map(lambda n: session(url, mix, n, questions_each), range(clients))
        rows = [row for one in sessions for row in one]
    elapsed = time.perf_counter() - started
    seconds = {kind: [s for k, s, _ in rows if k == kind] for kind in kinds}
    seconds["all"] = [s for _, s, _ in rows]
    return LoadResult(
        clients=clients,
        questions_each=questions_each,
        requests=len(rows),
        failures=tuple(f"{kind}: {problem}" for kind, _, problem in rows if problem),
        p50_s={kind: float(np.percentile(values, 50)) for kind, values in seconds.items()},
        p95_s={kind: float(np.percentile(values, 95)) for kind, values in seconds.items()},
        elapsed_s=elapsed,
        still_up=session(url, mix, 0, 1)[0][2] == "",  # the mix's first, a good request, anew
    )


def serve_and_load(
    assistant: Assistant,
    *,
    clients: int = CLIENTS,
    questions_each: int = QUESTIONS_EACH,
    api: str = "gradio",
) -> LoadResult:
    """Start the real web server on `assistant` at a free local port, load it, close it."""
    from ui.app import launch  # imports gradio: only for those who serve

    server, url = launch(assistant, port=0, block=False, quiet=True)
    try:
        return run_load(url, clients=clients, questions_each=questions_each, api=api)
    finally:
        server.close()


def _session(
    url: str, mix: Sequence[Request], number: int, questions: int
) -> list[tuple[str, float, str]]:
    """(kind, seconds, problem or "") for each question one client asks, one after another."""
    from gradio_client import Client

    try:
        # analytics_enabled=False: the default True ignores GRADIO_ANALYTICS_ENABLED.
        client = Client(url, verbose=False, analytics_enabled=False)
    except Exception as exc:  # a server that refuses connections fails every request
        return [
            (mix[(number + t) % len(mix)].kind, 0.0, f"connect: {exc}") for t in range(questions)
        ]
    rows = []
    try:
        for turn in range(questions):
            request = mix[(number + turn) % len(mix)]
            started = time.perf_counter()
            problem = _problem(client, request)
            rows.append((request.kind, time.perf_counter() - started, problem))
    finally:
        client.close()
    return rows


def _json_session(
    url: str, mix: Sequence[JsonRequest], number: int, questions: int
) -> list[tuple[str, float, str]]:
    """(kind, seconds, problem or "") for each request one JSON client sends, in turn."""
    parsed = urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    rows = []
    try:
        for turn in range(questions):
            request = mix[(number + turn) % len(mix)]
            started = time.perf_counter()
            try:
                connection.request(request.method, request.path, request.body,
                                   {"Content-Type": "application/json"})
                response = connection.getresponse()
                status, data = response.status, json.loads(response.read())
                problem = "" if status == request.status and request.check(
                    data if status == 200 else data.get("message", "")
                ) else f"status {status}: {str(data)[:200]}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                connection.close()  # the next request opens a fresh connection
                problem = f"{type(exc).__name__}: {exc}"
            rows.append((request.kind, time.perf_counter() - started, problem))
    finally:
        connection.close()
    return rows


def _problem(client: Any, request: Request) -> str:
    """What went wrong with one request, or "" when the server handled it right."""
    try:
        result = client.predict(request.question, api_name="/ask")
    except Exception as exc:  # a refusal arrives as an error carrying the message
        if request.refused and request.check(str(exc)):
            return ""
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    if request.refused:
        return "answered instead of refused"
    return "" if request.check(result) else f"wrong answer to {request.question!r}"
