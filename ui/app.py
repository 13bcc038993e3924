"""Gradio chat UI: a thin shell over `Assistant.ask` that shows cited sentences in context."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.answer.followup import ask_followup
from rag.errors import ScopeError
from rag.index.upload import MAX_UPLOAD_BYTES
from rag.scope import Scope
from rag.settings import DEFAULT_CORPUS, validate_question

from .assets import CHAT_JS, CSS, EXPORT_JS, HEAD, theme
from .figures import render_charts, side_by_side
from .figures_tab import build_figures_tab
from .guard import RequestGuard, UploadRefused, allowed_hosts, discard, uploaded_files
from .library import Library, article_choices
from .render import (
    render_answer,
    render_conversation,
    render_corpus,
    render_date_problem,
    render_error,
    render_pending,
    render_upload,
)
from .server import DEFAULT_HOST, Server, bind, free_port

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.types import Article

log = logging.getLogger(__name__)

EXAMPLES = (
    "How much did Xinjiang live-streaming sales grow?",
    "What were network retail sales at the 2025 Chongqing 618 E-commerce Festival?",
    "Where is JD's Asia No. 1 logistics hub in Chongqing located?",
    "What share of worldwide online retail sales does China account for?",
)
# Questions answered at once. Assistant.ask is read-only after construction and gives the same
# answers from 8 threads at once (tests/test_reliability_threads.py). Measured with rag.load on
# the 2-core dev machine, 16 clients x 10 requests, 4 runs per limit, mean ok p95 / p50:
# limit 1: 4.0 / 2.8 s (5.0 requests/s), 2: 3.9 / 2.5 s (5.6/s), 4: 3.7 / 2.3 s (5.7/s), 0 failed.
# 4 is best, by less than the spread between runs (about 1 s): with an instant fake embedder the
# same load still tops out near 5 requests/s, so gradio's queue and transport, not ask, set the
# pace; a limit above 1 only lets a slow question overlap with that overhead.
CONCURRENCY_LIMIT = 4
UPLOAD_MB = MAX_UPLOAD_BYTES // (1024 * 1024)
# The date filter's fields as the page labels them: its messages name them so.
SINCE_LABEL, UNTIL_LABEL = "Published from", "Published until"

# --- the app ------------------------------------------------------------------------------------


def chat_reply(
    assistant: Assistant,
    question: object,
    previous: str | None,
    *,
    articles: Mapping[str, Article] | None = None,
    scope: tuple[Sequence[str] | None, str | None, str | None] = (None, None, None),
) -> tuple[str, str | None]:
    """One chat turn: (reply HTML, the question the next follow-up builds on).

    A follow-up is merged with `previous` (see `rag.answer.followup`); only the articles and
    dates of `scope` (doc_ids, since, until, as the filter's inputs give them) are searched. A bad
    question or filter becomes an error message in the chat, and `previous` is kept so the
    conversation can go on.
    """
    if articles is None:
        articles = {article.doc_id: article for article in assistant.articles}
    try:
        cleaned = validate_question(question)
        chosen, since, until = scope
        if problem := date_problem(since, until):
            raise ScopeError(problem)
        within = Scope(tuple(chosen or ()), (since or "").strip(), (until or "").strip())
        answer = ask_followup(assistant, cleaned, previous, scope=within)
    except (TypeError, ValueError) as exc:
        return render_error(str(exc)), previous
    except Exception:  # the page must keep working whatever one question does
        log.exception("answering %r failed", question)
        return render_error("something went wrong while answering; please try again."), previous
    # The figures it sets side by side, charted as the Figures tab charts them; one figure
    # alone compares nothing.
    figures = side_by_side(answer, assistant.figures)
    chart = render_charts(figures, articles) if len(figures) > 1 else ""
    html_reply = render_answer(
        answer,
        articles,
        threshold=assistant.threshold,
        high=assistant.high_threshold,
        asked=cleaned,
        chart=chart,
    )
    return html_reply, answer.answered_question or cleaned


def date_problem(since: str | None, until: str | None, articles: Sequence[Article] = ()) -> str:
    """What is wrong with the date filter's fields, named by their labels on the page, or "".

    With `articles`, a range that holds none of them is a problem too.
    """
    values = {SINCE_LABEL: (since or "").strip(), UNTIL_LABEL: (until or "").strip()}
    for label, value in values.items():
        try:
            Scope(since=value)
        except ScopeError:
            return (
                f"“{label}” must be a date as YYYY, YYYY-MM or YYYY-MM-DD (such as 2024, "
                f"2024-07 or 2024-07-19); “{value[:40]}” is not one."
            )
    since, until = values.values()
    try:
        within = Scope(since=since, until=until)
    except ScopeError:
        return f"“{SINCE_LABEL}” ({since}) is after “{UNTIL_LABEL}” ({until}); swap them."
    if articles and not within.everything:
        try:
            within.check(articles)
        except ScopeError as exc:
            return f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    return ""


def build_app(library: Library, *, examples: Sequence[str] = EXAMPLES) -> gr.Blocks:
    """The chat page and the `/ask` API endpoint over the library's assistant."""
    # Over 60 lines: gradio's Blocks layout reads top-down as the page does; its handlers are
    # closures over the one library, whose assistant an upload replaces.

    def respond(
        question: str,
        turns: list[list[str]] | None,
        previous: str | None,
        chosen: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[str, str, list[list[str]], str | None]:
        assistant, articles = library.state
        reply_html, previous = chat_reply(
            assistant, question, previous, articles=articles, scope=(chosen, since, until)
        )
        turns = [*(turns or []), [question or "", reply_html]]
        return "", render_conversation(turns), turns, previous

    def respond_anew(
        question: str,
        turns: list[list[str]] | None,
        _previous: str | None,
        chosen: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[str, str, list[list[str]], str | None]:
        # "Ask as a new question": the user's own words, not merged with the one before.
        return respond(question, turns, None, chosen, since, until)

    def clear() -> tuple[str, str, list[list[str]], None]:
        return "", render_conversation([]), [], None

    def check_dates(since: str | None, until: str | None) -> str:
        # On leaving a date field (or Enter in it): said at once, not after a question.
        return render_date_problem(date_problem(since, until, library.assistant.articles))

    def recheck_dates(since: str | None, until: str | None) -> Any:
        # While typing: a message goes as soon as the dates are right, but none is shown for
        # a date half typed.
        problem = date_problem(since, until, library.assistant.articles)
        return gr.skip() if problem else render_date_problem("")

    def upload(files: list[str] | None, turns: list[list[str]] | None) -> Iterator[tuple[Any, ...]]:
        names = ", ".join(Path(path).name for path in files or []) or "nothing"
        # Said at once: checking is quick, indexing a large file takes a while.
        pending = render_pending("Checking the files, then indexing the new articles…")
        turns = [*(turns or []), [f"Uploaded {names}", pending]]
        yield None, render_conversation(turns), turns, gr.skip(), gr.skip(), gr.skip()
        given: list[tuple[str, Path]] = []
        try:
            given = uploaded_files(files or [])
            reply = render_upload(library.add(given))
        except UploadRefused as exc:  # a client naming a server file: nothing is read
            log.warning("refused an upload event: %s", exc)
            reply = render_error(str(exc))
        except Exception:  # the page must keep working whatever one upload does
            log.exception("the upload of %s failed", [name for name, _ in given])
            reply = render_error("the upload failed; nothing was added. Please try again.")
        finally:
            discard(path for _, path in given)
        turns[-1] = [turns[-1][0], reply]
        yield None, render_conversation(turns), turns, *corpus_now()

    def add_links(text: str | None, turns: list[list[str]] | None) -> Iterator[tuple[Any, ...]]:
        urls = (text or "").split()
        listed = ", ".join(urls[:3]) + (f" and {len(urls) - 3} more" if len(urls) > 3 else "")
        pending = render_pending("Fetching the pages, then indexing their articles…")
        turns = [*(turns or []), [f"Added links: {listed or 'none'}", pending]]
        yield gr.skip(), render_conversation(turns), turns, gr.skip(), gr.skip(), gr.skip()
        kept = text or ""  # what stays in the field: the links refused, to correct and retry
        try:
            done = library.add([], urls)
            reply = render_upload(done)
            kept = "\n".join(url for url in urls if url in {p.path for p in done.report.problems})
        except Exception:  # the page must keep working whatever one fetch does
            log.exception("adding the links %s failed", urls[:20])
            reply = render_error("adding the links failed; nothing was added. Please try again.")
        turns[-1] = [turns[-1][0], reply]
        yield kept, render_conversation(turns), turns, *corpus_now()

    def corpus_now() -> tuple[str, str, Any]:
        # The header's counts, the corpus panel and the filter's choices, from the assistant
        # of the moment: on every page load (a page built before an upload would otherwise
        # show the corpus as it was then) and at once after an upload.
        assistant = library.assistant
        choices = gr.update(choices=article_choices(assistant.articles))
        return page_header(assistant), render_corpus(assistant), choices

    def ask(question: str) -> dict[str, Any]:
        """Answer one question; returns Answer.to_dict() (no follow-up rewriting)."""
        try:
            answer = library.assistant.ask(question)
        except (TypeError, ValueError) as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:
            log.exception("answering %r failed", question)
            raise gr.Error("internal error while answering", print_exception=False) from None
        return answer.to_dict()

    with gr.Blocks(title="News QA", analytics_enabled=False) as app:
        header = gr.Markdown(page_header(library.assistant), elem_id="rag-header")
        turns = gr.State([])
        previous = gr.State(None)
        with gr.Tabs(elem_id="rag-tabs"):
            with gr.Tab("Chat", id="chat", elem_id="rag-chat-tab"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chat = gr.HTML(
                        render_conversation([]),
                        elem_id="rag-chat",
                        js_on_load=CHAT_JS,
                        min_height=260,
                        max_height="70vh",  # long answers scroll inside; the input stays in view
                        container=True,
                        padding=True,
                    )
                    with gr.Row(equal_height=True):
                        box = gr.Textbox(
                            placeholder="Ask a question about the articles, then follow up: "
                            "“and in rural areas?”",
                            label="Your question",  # what a screen reader announces
                            show_label=False,
                            lines=1,
                            max_lines=4,
                            scale=6,
                            elem_id="rag-question",
                            autofocus=True,
                        )
                        send = gr.Button(
                            "Ask", variant="primary", scale=0, min_width=90, elem_id="rag-ask"
                        )
                    if examples:
                        gr.Markdown(
                            "**Examples** — click to ask:", elem_classes="rag-examples-label"
                        )
                        with gr.Row(elem_classes="rag-examples"):
                            buttons = [
                                gr.Button(text, size="sm", scale=0, elem_classes="rag-example")
                                for text in examples
                            ]
                    else:
                        buttons = []
                    with gr.Row(equal_height=False, elem_classes="rag-hint-row"):
                        gr.Markdown(
                            "Follow-ups such as *and in rural areas?* or *what about Yichang?* are "
                            "merged into the previous question; the answer shows the question it "
                            "answered.",
                            elem_classes="rag-hint",
                        )
                        export = _small_button("Export as Markdown", "rag-export")
                        reset = _small_button("Clear conversation", "rag-clear")
                    # Filled and clicked by a reply's "Ask as a new question" (CHAT_JS); not shown.
                    anew = gr.Textbox(elem_id="rag-anew-question", elem_classes="rag-hidden")
                    anew_send = gr.Button(elem_id="rag-anew-ask", elem_classes="rag-hidden")
                with gr.Column(scale=2, min_width=280):
                    with gr.Accordion("Search only", open=False, elem_id="rag-filter"):
                        chosen = gr.Dropdown(
                            article_choices(library.assistant.articles),
                            multiselect=True,
                            label="Articles (none chosen: all)",
                            elem_id="rag-filter-articles",
                        )
                        with gr.Row():
                            since = gr.Textbox(
                                label=SINCE_LABEL, placeholder="YYYY-MM-DD", elem_id="rag-since"
                            )
                            until = gr.Textbox(
                                label=UNTIL_LABEL, placeholder="YYYY-MM-DD", elem_id="rag-until"
                            )
                        dates_said = gr.HTML(
                            render_date_problem(""), elem_id="rag-date-problem", padding=False
                        )
                    if library.accepts_uploads:
                        with gr.Accordion("Add articles", open=False, elem_id="rag-upload-panel"):
                            files = gr.File(
                                label=f"Articles as .txt, .md, .jsonl, web pages (.html), PDFs "
                                f"or RSS/Atom feeds, up to {UPLOAD_MB} MB each",
                                file_count="multiple",
                                type="filepath",
                                elem_id="rag-upload",
                            )
                            links = gr.Textbox(
                                label="Or links to articles or feeds (one a line)",
                                placeholder="https://",
                                lines=2,
                                max_length=20_000,
                                elem_id="rag-links",
                            )
                            fetch = gr.Button("Add links", elem_id="rag-add-links")
                    with gr.Accordion("Corpus", open=True):
                        corpus = gr.HTML(
                            render_corpus(library.assistant),
                            elem_id="rag-corpus",
                            js_on_load=None,
                        )
            with gr.Tab("Figures", id="figures", elem_id="rag-figures-tab"):
                figures = build_figures_tab(library)

        outputs = [box, chat, turns, previous]
        hidden = {"api_visibility": "private", "show_progress": "hidden"}
        common = {"outputs": outputs, "api_visibility": "private", "show_progress": "minimal"}
        state = [turns, previous, chosen, since, until]
        box.submit(respond, inputs=[box, *state], **common)
        send.click(respond, inputs=[box, *state], **common)
        for button in buttons:
            button.click(respond, inputs=[button, *state], **common)
        anew_send.click(respond_anew, inputs=[anew, *state], **common)
        # The Figures tab, like the corpus panel, shows the corpus of the moment: refreshed on
        # every page load and after an upload, with the filters as they are.
        refresh = {"inputs": figures.filters, "outputs": figures.outputs, **hidden}
        if library.accepts_uploads:
            files.upload(
                upload,
                inputs=[files, turns],
                outputs=[files, chat, turns, header, corpus, chosen],
                api_visibility="private",
            ).then(figures.refresh, **refresh)
            fetch.click(
                add_links,
                inputs=[links, turns],
                outputs=[links, chat, turns, header, corpus, chosen],
                api_visibility="private",
            ).then(figures.refresh, **refresh)
        app.load(corpus_now, outputs=[header, corpus, chosen], **hidden, queue=False)
        app.load(figures.refresh, **refresh, queue=False)
        reset.click(clear, outputs=outputs, api_visibility="private", queue=False)
        quick = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
        for field in (since, until):
            field.blur(check_dates, inputs=[since, until], outputs=dates_said, **quick)
            field.submit(check_dates, inputs=[since, until], outputs=dates_said, **quick)
            field.change(recheck_dates, inputs=[since, until], outputs=dates_said, **quick)
        export.click(None, js=EXPORT_JS)
        gr.api(ask, api_name="ask")
    return app


def page_header(assistant: Assistant) -> str:
    """The page's title and what it answers from, counted now."""
    report = assistant.build_report
    articles = f"{report.articles:,} article{'s' if report.articles != 1 else ''}"
    return (
        f"# News QA\nAsk about the news articles: **{articles}** · **{report.passages:,}** "
        "passages indexed. Answers are sentences copied from the articles, each with its "
        "source; when the articles do not hold the answer, the assistant says so."
    )


def _small_button(label: str, elem_id: str) -> gr.Button:
    return gr.Button(label, size="sm", scale=0, min_width=150, elem_id=elem_id)


def examples_for(corpus: str | Path | None) -> tuple[str, ...]:
    """Example questions: the curated ones for the bundled corpus, else from its gold_qa.jsonl."""
    if corpus is None or Path(corpus).resolve() == Path(DEFAULT_CORPUS).resolve():
        return EXAMPLES
    gold = Path(corpus) / "gold_qa.jsonl"
    questions: list[str] = []
    try:
        for line in gold.read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            if record.get("answerable") and isinstance(record.get("question"), str):
                questions.append(record["question"])
            if len(questions) == len(EXAMPLES):
                break
    except (OSError, ValueError, AttributeError):
        return ()  # no usable gold file: the page simply shows no examples
    return tuple(questions)


def launch(
    assistant: Assistant,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    examples: Sequence[str] = EXAMPLES,
    block: bool = True,
    quiet: bool = False,
    corpus: str | Path | None = None,
    index_dir: str | Path | None = None,
    hosts: Sequence[str] = (),
    fetch_private: bool = False,
) -> tuple[Server, str]:
    """Serve the chat page at / and the JSON API at /api on host:port, and print the URL.

    `port=None` takes the first free port from 7860, `port=0` any free port. With
    `block=False` it returns (server, url) at once and the caller closes the server. Users from
    RAG_AUTH or RAG_AUTH_FILE must log in (`ui.auth`); beyond loopback, some are required.
    With `corpus` (the folder `assistant` was built from, its index in `index_dir`), the page
    takes uploaded articles into `corpus/uploads/` and answers from them too. Requests must
    address loopback, `host`, or one of `hosts` (and RAG_ALLOWED_HOSTS): see `ui.guard`.
    Links added on the page are fetched from public addresses only, unless `fetch_private`.
    """
    from .api import build_api
    from .auth import check_exposure, credentials, protect

    users = credentials()
    check_exposure(host, users)  # before anything starts: no login, no serving beyond loopback
    library = Library(assistant, corpus, index_dir, fetch_private=fetch_private)
    api = build_api(library)
    if users:
        protect(api, users)
    blocks = build_app(library, examples=examples)
    blocks.queue(default_concurrency_limit=CONCURRENCY_LIMIT)
    app = gr.mount_gradio_app(
        api,
        blocks,
        path="/",
        auth=users or None,
        footer_links=["api"],
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        theme=theme(),
        css=CSS,
        head=HEAD,
        # Gradio refuses a file past this before storing it; one over MAX_UPLOAD_BYTES but under
        # this reaches `rag.index.upload`, which says in the chat why it was not added.
        max_file_size=4 * MAX_UPLOAD_BYTES,
    )
    # Gradio checks that every file an event names lies in its upload folder only once
    # `launch()` has set this; mounting never does, and then any event's data could name any
    # file on the server to be copied into its cache (and served, or indexed by an upload).
    blocks.has_launched = True
    app.add_middleware(RequestGuard, names=allowed_hosts(host, hosts))  # outermost: first
    sock = bind(host, free_port(host) if port == 0 else port)
    server = Server(app, sock)
    if not quiet:
        print(
            f"News QA web UI running at {server.url} (JSON API at {server.url}api/docs; "
            "Ctrl+C to stop)",
            flush=True,
        )
    if block:
        server.wait()
    return server, server.url
