"""The JSON API: ask, ask_many, articles, figures, health and upload, with JSON errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from rag.errors import QuestionError
from rag.index.upload import MAX_UPLOAD_BYTES
from rag.ingest.links import MAX_LINKS
from rag.scope import Scope
from rag.settings import MAX_QUESTION_CHARS, __version__, validate_question

if TYPE_CHECKING:
    from rag.answer.table import FigureRecord
    from rag.assistant import Assistant

    from .library import Library

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # 64 questions of 2,000 characters fit several times over
MAX_UPLOAD_FILES = 20
# POST /api/upload's body: its files at their limit each, and the form around them.
MAX_UPLOAD_BODY_BYTES = MAX_UPLOAD_FILES * MAX_UPLOAD_BYTES + MAX_BODY_BYTES
FILES_HELP = (
    f"article files (.txt, .md, .jsonl, .html, .pdf, RSS/Atom feeds), at most "
    f"{MAX_UPLOAD_FILES}, {MAX_UPLOAD_BYTES // 2**20} MB each"
)
LINKS_HELP = (
    f"http(s) links to articles or feeds, at most {MAX_LINKS}; the server fetches public "
    "addresses only, unless it was started with --fetch-private"
)
MAX_BATCH = 64
MAX_TOP_K = 20
DOCS_ASSETS = "/api/docs/assets"  # Swagger UI's script, stylesheet and icon, served locally
Mode = Literal["bm25", "dense", "hybrid"]
# Every method a client may send, so that each is answered in the API's shape, not the page's.
CATCH_ALL_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


class Filter(BaseModel):
    """Which articles are searched: all, unless ids or dates are given (see `rag.scope`)."""

    articles: list[str] = Field(
        default_factory=list, max_length=1000, description="doc_ids from /api/articles"
    )
    since: str = Field(default="", max_length=10, description="YYYY, YYYY-MM or YYYY-MM-DD")
    until: str = Field(default="", max_length=10, description="inclusive, like since")

    def scope(self) -> Scope:
        return Scope(tuple(self.articles), self.since, self.until)


# No max_length of its own: a question over MAX_QUESTION_CHARS gets the one message that
# `validate_question` gives everywhere (the Python API, the CLI, the chat), and the body's
# limit (MAX_BODY_BYTES) bounds what is read. The schema still tells clients the limit.
QUESTION_LIMIT = {"maxLength": MAX_QUESTION_CHARS}
# strict: `true` is not 1, nor "3" 3; a client sending either has a bug to hear about.
TOP_K = {"default": None, "ge": 1, "le": MAX_TOP_K, "strict": True}


class AskRequest(Filter):
    """One question; `top_k` and `mode` default to the assistant's settings."""

    question: str = Field(
        description=f"the question, as typed (at most {MAX_QUESTION_CHARS:,} characters)",
        json_schema_extra=QUESTION_LIMIT,
    )
    top_k: int | None = Field(**TOP_K)
    mode: Mode | None = None


class AskManyRequest(Filter):
    """Up to MAX_BATCH questions answered in one pass."""

    questions: list[str] = Field(min_length=1, max_length=MAX_BATCH)
    top_k: int | None = Field(**TOP_K)
    mode: Mode | None = None


def error(status: int, message: str) -> JSONResponse:
    """The one shape of every error: {"status": 422, "message": "what to change"}."""
    return JSONResponse({"status": status, "message": message}, status_code=status)


def build_api(library: Library, *, workers: int | None = None) -> FastAPI:
    """The API under /api, with its OpenAPI schema at /api/openapi.json and docs at /api/docs
    (whose Swagger UI is served from here too: the page works without the internet).

    Answering runs in a pool of `workers` threads (default: the cores), off the event loop,
    so a slow question never stalls the server, and batches in a pool of half as many; the
    assistant is safe to share between them.
    Each request is answered by the library's assistant of the moment (uploads replace it).
    """
    workers = workers or os.cpu_count() or 1
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ask")
    # Batches have a lane of their own, half as wide: however many ask_many requests come in,
    # single questions never queue behind them for a thread.
    batches = ThreadPoolExecutor(max_workers=max(1, workers // 2), thread_name_prefix="ask-many")
    # FastAPI's own docs page loads Swagger UI from a CDN and is blank offline; this one serves
    # the copy that fastapi-offline ships, from /api/docs/assets.
    api = FastAPIOffline(
        title="News QA",
        version=__version__,
        description="Extracted, cited answers from the indexed news articles.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        static_url=DOCS_ASSETS,
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
    )
    api.state.pools = (pool, batches)

    async def answer(call, *args, lane: ThreadPoolExecutor = pool) -> Any:
        return await asyncio.get_running_loop().run_in_executor(lane, call, *args)

    @api.middleware("http")
    async def limit_body(request: Request, call_next):
        # Refused before the body is read: a declared size over the limit, then the bytes
        # actually sent (a chunked body declares none). The chat page's own endpoints keep
        # gradio's handling, which refuses a long question with the assistant's message.
        if not request.url.path.startswith("/api/"):
            return await call_next(request)
        limit = MAX_UPLOAD_BODY_BYTES if request.url.path == "/api/upload" else MAX_BODY_BYTES
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return error(413, f"the request body is over {limit:,} bytes; send less")
        if request.method == "POST" and declared is None:
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    return error(413, f"the request body is over {limit:,} bytes")
            request._body = body  # read once here; the route reads it from this cache
        return await call_next(request)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        sent_as = request.headers.get("content-type", "")
        for item in exc.errors():
            if tuple(item.get("loc", ())) == ("body",) and item.get("type") == "missing":
                problems.append(
                    "the request has no body; send a JSON object such as "
                    '{"question": "How much did sales grow?"}, with Content-Type: application/json'
                )
                continue
            if tuple(item.get("loc", ())) == ("body",) and "json" not in sent_as.lower():
                # FastAPI reads a body as JSON only when its Content-Type says so.
                problems.append(
                    f"the body was sent {f'as {sent_as}' if sent_as else 'without a Content-Type'}"
                    "; send it as JSON, with the header Content-Type: application/json"
                )
                continue
            if item.get("type") == "json_invalid":
                problems.append(
                    "the request body is not valid JSON; send an object such as "
                    '{"question": "How much did sales grow?"}'
                )
                continue
            where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
            problems.append(f"{where or 'body'}: {item.get('msg', 'invalid')}")
        return error(422, "; ".join(problems) or "the request body is not valid")

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @api.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("the API failed on %s", request.url.path)
        return error(500, "internal error while answering; the server log has the details")

    @api.post("/api/ask", summary="Answer one question")
    async def ask(body: AskRequest) -> dict[str, Any]:
        try:
            result = await answer(_ask, library.assistant, body)
        except ValueError as exc:  # QuestionError (empty, too long), ScopeError
            return error(400, str(exc))
        return result

    @api.post("/api/ask_many", summary="Answer several questions in one pass")
    async def ask_many(body: AskManyRequest) -> dict[str, Any]:
        try:
            answers = await answer(_ask_many, library.assistant, body, lane=batches)
        except ValueError as exc:
            return error(400, str(exc))
        return {"answers": answers}

    @api.get("/api/articles", summary="The indexed articles")
    async def articles() -> dict[str, Any]:
        return {
            "articles": [
                {
                    "doc_id": a.doc_id,
                    "title": a.title,
                    "publisher": a.publisher,
                    "published": a.published,
                    "url": a.url,
                    "author": a.author,
                    "summary_only": a.summary_only,
                    "characters": len(a.text),
                }
                for a in library.assistant.articles
            ]
        }

    @api.get("/api/figures", summary="Every figure of the articles, filtered")
    def figures(
        measure: Literal["share", "growth", "amount", "level"] | None = None,
        about: str | None = Query(None, max_length=200),
        place: str | None = Query(None, max_length=200),
        article: str | None = Query(None, max_length=200),
        period: str | None = Query(None, max_length=40),
        since: str = Query("", max_length=40),
        until: str = Query("", max_length=40),
    ) -> JSONResponse:
        assistant = library.assistant
        if article is not None and article not in {a.doc_id for a in assistant.articles}:
            return error(400, f"no indexed article {article!r}; /api/articles lists them")
        try:  # a period or date that is none (SettingsError, ScopeError), a range of no article
            records = assistant.figures(
                measure=measure, about=about, place=place, article=article, period=period,
                scope=Scope(since=since, until=until),
            )  # fmt: skip
        except ValueError as exc:
            return error(400, str(exc))
        body = ",".join(_figure_json(r) for r in records)
        return Response(f'{{"figures":[{body}]}}', media_type="application/json")

    @api.post("/api/upload", summary="Add articles: files, or links to pages and feeds")
    async def upload(
        files: Annotated[list[UploadFile], File(description=FILES_HELP)] = [],  # noqa: B006
        links: Annotated[list[str], Form(description=LINKS_HELP)] = [],  # noqa: B006
    ) -> dict[str, Any]:
        """Each file and link is checked, read and indexed as the page's upload panel does;
        the answer lists what was added, and each file, link or line refused with why."""
        if not library.accepts_uploads:
            return error(403, "this server does not take uploads (started with --read-only)")
        links = [link for link in links if link.strip()]
        if not files and not links:
            return error(422, "send article files (form field `files`) or links (`links`)")
        if len(files) > MAX_UPLOAD_FILES:
            return error(413, f"{len(files)} files, over {MAX_UPLOAD_FILES}; send them in parts")
        with tempfile.TemporaryDirectory(prefix="rag-api-upload-") as folder:
            given = []
            for number, item in enumerate(files):
                path = Path(folder, str(number))  # the name given is only a label, never a path
                path.write_bytes(await item.read(MAX_UPLOAD_BYTES + 1))
                given.append((item.filename or f"file {number + 1}", path))
            done = await answer(_upload, library, given, links, lane=batches)
        return done

    @api.get("/api/health", summary="Whether the server answers, and over what")
    async def health() -> dict[str, Any]:
        count = len(library.assistant.articles)
        return {"status": "ok", "version": __version__, "articles": count}

    @api.api_route("/api/{rest:path}", methods=[*CATCH_ALL_METHODS], include_in_schema=False)
    async def unknown(rest: str) -> JSONResponse:
        # Registered last: without it, the chat page mounted at / would answer in its own shape.
        methods = {r.path: r.methods for r in api.routes if isinstance(r, APIRoute)}
        if f"/api/{rest}" in methods:
            allowed = ", ".join(sorted(methods[f"/api/{rest}"]))
            response = error(405, f"/api/{rest} takes {allowed}")
            response.headers["Allow"] = allowed
            return response
        return error(404, f"no endpoint /api/{rest}; the endpoints are listed at /api/docs")

    return api


@lru_cache(maxsize=2**16)
def _figure_json(record: FigureRecord) -> str:
    """A figure as JSON, written once: a table's records never change, and a filter that keeps
    hundreds of them spent most of its time in the encoder."""
    return json.dumps(vars(record))


def _upload(library: Library, files: list[tuple[str, Path]], links: list[str]) -> dict[str, Any]:
    """Files and links added as the page adds them, in one build; the outcome as JSON."""
    done = library.add(files, links)
    return {
        "added": [
            {"given": a.given, "path": a.path, "articles": a.articles} for a in done.report.added
        ],
        "refused": [str(p) for p in done.report.problems],
        "details": [line.strip() for line in done.details],
        "error": done.error,
        "articles": len(library.assistant.articles),
    }


def _ask(assistant: Assistant, body: AskRequest) -> dict:
    answer = assistant.ask(body.question, top_k=body.top_k, mode=body.mode, scope=body.scope())
    return answer.to_dict()


def _ask_many(assistant: Assistant, body: AskManyRequest) -> list[dict]:
    for n, question in enumerate(body.questions):
        try:
            validate_question(question)
        except ValueError as exc:
            raise QuestionError(f"questions[{n}]: {exc}") from None
    answers = assistant.ask_many(
        body.questions, top_k=body.top_k, mode=body.mode, scope=body.scope()
    )
    return [a.to_dict() for a in answers]
