"""Gradio chat UI: a thin shell over `Assistant.ask` that shows cited sentences in context."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.followup import ask_followup
from rag.settings import DEFAULT_CORPUS, validate_question

from .render import render_answer, render_conversation, render_corpus, render_error

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.types import Article

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
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

# "Export as Markdown", in the browser: each turn's question and its answer with citations
# (the text "Copy with citations" copies), as a file to download.
EXPORT_JS = """
() => {
  const turns = Array.from(document.querySelectorAll('#rag-chat .rag-turn'));
  const text = '# News QA conversation\\n\\n' + turns.map((turn) => {
    const question = turn.querySelector('.rag-user').textContent.trim();
    const reply = turn.querySelector('[data-markdown]');
    const answer = reply ? reply.dataset.markdown : turn.querySelector('.rag-bot').innerText;
    return '## ' + question + '\\n\\n' + answer + '\\n';
  }).join('\\n');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/markdown' }));
  link.download = 'news-qa-conversation.md';
  document.body.appendChild(link);
  link.click();
  link.remove();
}
"""

# --- the app ------------------------------------------------------------------------------------

CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto; }
#rag-header h1 { margin-bottom: 0.2em; }
.rag-chat { display: flex; flex-direction: column; gap: 18px; padding: 4px 2px; }
.rag-empty { color: var(--body-text-color-subdued); padding: 24px 8px; }
.rag-turn { display: flex; flex-direction: column; gap: 8px; }
.rag-user { align-self: flex-end; max-width: 80%; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--color-accent-soft); border: 1px solid var(--border-color-accent-subdued);
  border-radius: 14px 14px 4px 14px; padding: 8px 14px; }
.rag-bot { align-self: flex-start; max-width: 94%; width: 94%;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);
  border-radius: 14px 14px 14px 4px; padding: 12px 16px; }
.rag-short { font-size: 1.05em; margin-bottom: 6px; }
.rag-answered-as { font-size: 0.9em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.rag-answer, .rag-closest { line-height: 1.6; overflow-wrap: anywhere; }
.rag-sentence + .rag-sentence::before { content: " "; }
.rag-marker { font-weight: 600; color: var(--color-accent); font-size: 0.9em; }
mark.rag-short-answer { background: #fde68a; color: #111827; font-weight: 700; padding: 0 3px;
  border-radius: 3px; }
.rag-differing { border-left: 4px solid #2563eb; padding: 6px 10px; margin-bottom: 8px;
  background: rgba(37, 99, 235, 0.08); }
.rag-differing ul { margin: 4px 0 0 0; padding-left: 18px; }
.rag-abstain { border-left: 4px solid #d97706; padding: 6px 10px; margin-bottom: 8px;
  background: rgba(217, 119, 6, 0.08); }
.rag-closest-label { font-size: 0.9em; font-style: italic; margin-bottom: 4px;
  color: var(--body-text-color-subdued); }
.rag-closest { color: var(--body-text-color-subdued); }
.rag-error { border-left: 4px solid #dc2626; padding: 6px 10px;
  background: rgba(220, 38, 38, 0.08); overflow-wrap: anywhere; }
.rag-confidence { display: flex; align-items: center; gap: 8px; font-size: 0.85em;
  margin: 10px 0 4px; color: var(--body-text-color-subdued); }
.rag-meter { display: inline-block; width: 90px; height: 8px; border-radius: 4px;
  background: var(--border-color-primary); overflow: hidden; }
.rag-meter > span { display: block; height: 100%; }
.rag-high .rag-meter > span { background: #16a34a; }
.rag-medium .rag-meter > span { background: #d97706; }
.rag-low .rag-meter > span { background: #dc2626; }
.rag-sources { margin-top: 10px; padding-top: 8px;
  border-top: 1px solid var(--border-color-primary); }
.rag-sources-title { font-weight: 600; font-size: 0.9em; margin-bottom: 4px; }
.rag-source-list { list-style: none; padding-left: 0 !important; margin: 0 !important; }
.rag-source { margin: 6px 0 !important; padding-left: 0 !important; }
.rag-source-head { display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: baseline; }
.rag-title { font-weight: 600; overflow-wrap: anywhere; }
.rag-meta { font-size: 0.85em; color: var(--body-text-color-subdued); }
.rag-context summary { cursor: pointer; font-size: 0.85em; color: var(--color-accent); }
.rag-paragraph { white-space: pre-wrap; font-size: 0.92em; line-height: 1.55;
  margin: 6px 0 0 !important; padding: 8px 12px; overflow-wrap: anywhere;
  border-left: 3px solid var(--border-color-primary); }
mark.rag-cited { background: #dbeafe; color: #111827; padding: 1px 0; }
.rag-corpus .rag-counts { margin: 0 0 8px; }
.rag-corpus-list { padding-left: 1.1em !important; font-size: 0.9em; }
.rag-corpus-list li { margin-bottom: 6px; }
.rag-corpus-list .rag-meta { display: block; }
.rag-examples { flex-wrap: wrap !important; gap: 6px !important; }
.rag-hint { font-size: 0.9em; color: var(--body-text-color-subdued); }
.rag-examples button { text-align: left; flex: 0 1 auto !important; }
.rag-source + .rag-source { border-top: 1px dashed var(--border-color-primary); padding-top: 6px; }
#rag-clear { align-self: flex-start; }
.rag-hidden { display: none !important; }
.rag-copy { margin-top: 8px; font-size: 0.85em; color: var(--color-accent); cursor: pointer;
  background: none; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 1px 8px; }
.rag-ask-anew { margin-left: 6px; font-size: 0.95em; color: var(--color-accent); cursor: pointer;
  background: none; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0 6px; }
/* A phone (390 px): the answer grows with the page instead of scrolling in a box of its own,
   and the hint and "Clear conversation" stack rather than squeeze each other. */
@media (max-width: 640px) {
  #rag-chat { max-height: none !important; overflow: visible !important; }
  #rag-chat > * { max-height: none !important; overflow: visible !important; }
  .rag-hint-row { flex-direction: column; }
  #rag-clear { width: 100%; }
}
"""


# Runs once in the browser. The HTML component re-renders by diffing attributes, which would
# close every opened "in context" paragraph when a new answer arrives, so the open ones are
# remembered (by position: the conversation only grows, until it is cleared) and reopened.
# Then the newest turn is scrolled to the top of the chat box, so a long answer reads from
# its start.
CHAT_JS = """
// The chat is a live region: a screen reader reads each new answer when it arrives.
element.setAttribute('role', 'log');
element.setAttribute('aria-live', 'polite');
element.setAttribute('aria-label', 'Conversation');
// "Ask as a new question" under a merged follow-up: its words go to a hidden box whose button
// asks them without the previous question.
element.addEventListener('click', (event) => {
  const button = event.target.closest('.rag-ask-anew');
  if (!button) return;
  const box = document.querySelector('#rag-anew-question textarea');
  box.value = button.dataset.question;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  setTimeout(() => document.querySelector('#rag-anew-ask').click(), 0);
});
// "Copy with citations": the answer as plain text, each cited sentence's source after it.
element.addEventListener('click', async (event) => {
  const button = event.target.closest('.rag-copy');
  if (!button) return;
  await navigator.clipboard.writeText(button.dataset.copy);
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = 'Copy with citations'; }, 1500);
});
const opened = new Set();
const all = () => Array.from(element.querySelectorAll('details'));
element.addEventListener('toggle', (event) => {
  const index = all().indexOf(event.target);
  if (index < 0) return;
  if (event.target.open) opened.add(index); else opened.delete(index);
}, true);
const scroller = () => {
  for (let node = element; node && node !== document.body; node = node.parentElement) {
    const style = getComputedStyle(node).overflowY;
    if ((style === 'auto' || style === 'scroll') && node.scrollHeight > node.clientHeight) {
      return node;
    }
  }
  return null;
};
watch('value', () => {
  const turns = element.querySelectorAll('.rag-turn');
  if (!turns.length) { opened.clear(); return; }
  all().forEach((details, index) => { if (opened.has(index)) details.open = true; });
  const box = scroller();
  if (box) {
    const last = turns[turns.length - 1];
    box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  }
});
"""


def _theme() -> gr.themes.Base:
    # System fonts: the default theme fetches Google Fonts, which a machine without internet
    # (or a privacy-minded user) should not need.
    # Subdued text and accents one step darker than the theme's: its grey (#9ca3af) read at
    # 2.4:1 and its indigo at 4.3:1 on the page; WCAG AA asks 4.5:1 (axe checks it in the tests).
    return gr.themes.Soft(
        primary_hue="indigo",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    ).set(
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
        color_accent="*primary_700",
        color_accent_soft_dark="*primary_300",
        button_primary_background_fill="*primary_600",  # white on it: 6.3:1, not 4.5
        button_primary_background_fill_hover="*primary_700",
    )


def chat_reply(
    assistant: Assistant,
    question: object,
    previous: str | None,
    *,
    articles: Mapping[str, Article] | None = None,
) -> tuple[str, str | None]:
    """One chat turn: (reply HTML, the question the next follow-up builds on).

    A follow-up is merged with `previous` (see `rag.followup`); a bad question becomes an
    error message in the chat, and `previous` is kept so the conversation can go on.
    """
    if articles is None:
        articles = {article.doc_id: article for article in assistant.articles}
    try:
        cleaned = validate_question(question)
        answer = ask_followup(assistant, cleaned, previous)
    except (TypeError, ValueError) as exc:
        return render_error(str(exc)), previous
    except Exception:  # the page must keep working whatever one question does
        log.exception("answering %r failed", question)
        return render_error("something went wrong while answering; please try again."), previous
    threshold = assistant.threshold
    html_reply = render_answer(answer, articles, threshold=threshold, asked=cleaned)
    return html_reply, answer.answered_question or cleaned


def build_app(assistant: Assistant, *, examples: Sequence[str] = EXAMPLES) -> gr.Blocks:
    """The chat page and the `/ask` API endpoint over one loaded assistant."""
    # Over 60 lines: gradio's Blocks layout reads top-down as the page does; its handlers are
    # closures over the one assistant.
    articles = {article.doc_id: article for article in assistant.articles}

    def respond(
        question: str, turns: list[list[str]] | None, previous: str | None
    ) -> tuple[str, str, list[list[str]], str | None]:
        reply_html, previous = chat_reply(assistant, question, previous, articles=articles)
        turns = [*(turns or []), [question or "", reply_html]]
        return "", render_conversation(turns), turns, previous

    def respond_anew(
        question: str, turns: list[list[str]] | None, _previous: str | None
    ) -> tuple[str, str, list[list[str]], str | None]:
        # "Ask as a new question": the user's own words, not merged with the one before.
        return respond(question, turns, None)

    def clear() -> tuple[str, str, list[list[str]], None]:
        return "", render_conversation([]), [], None

    def ask(question: str) -> dict[str, Any]:
        """Answer one question; returns Answer.to_dict() (no follow-up rewriting)."""
        try:
            answer = assistant.ask(question)
        except (TypeError, ValueError) as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:
            log.exception("answering %r failed", question)
            raise gr.Error("internal error while answering", print_exception=False) from None
        return answer.to_dict()

    with gr.Blocks(title="News QA", analytics_enabled=False) as app:
        gr.Markdown(
            "# News QA\nAsk about the news articles. Answers are sentences copied from the "
            "articles, each with its source; when the articles do not hold the answer, the "
            "assistant says so.",
            elem_id="rag-header",
        )
        turns = gr.State([])
        previous = gr.State(None)
        with gr.Row(equal_height=False):
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
                    gr.Markdown("**Examples** — click to ask:", elem_classes="rag-examples-label")
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
                    export = gr.Button(
                        "Export as Markdown",
                        size="sm",
                        scale=0,
                        min_width=150,
                        elem_id="rag-export",
                    )
                    reset = gr.Button(
                        "Clear conversation",
                        size="sm",
                        scale=0,
                        min_width=150,
                        elem_id="rag-clear",
                    )
                # Filled and clicked by a reply's "Ask as a new question" (CHAT_JS); not shown.
                anew = gr.Textbox(elem_id="rag-anew-question", elem_classes="rag-hidden")
                anew_send = gr.Button(elem_id="rag-anew-ask", elem_classes="rag-hidden")
            with gr.Column(scale=2, min_width=280):
                with gr.Accordion("Corpus", open=True):
                    gr.HTML(render_corpus(assistant), elem_id="rag-corpus", js_on_load=None)

        outputs = [box, chat, turns, previous]
        common = {"outputs": outputs, "api_visibility": "private", "show_progress": "minimal"}
        box.submit(respond, inputs=[box, turns, previous], **common)
        send.click(respond, inputs=[box, turns, previous], **common)
        for button in buttons:
            button.click(respond, inputs=[button, turns, previous], **common)
        anew_send.click(respond_anew, inputs=[anew, turns, previous], **common)
        reset.click(clear, outputs=outputs, api_visibility="private", queue=False)
        export.click(None, js=EXPORT_JS)
        gr.api(ask, api_name="ask")
    return app


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


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on host:port; `None` takes the first free port from 7860."""
    for candidate in [port] if port is not None else range(7860, 7960):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError:
            sock.close()
            if port is not None:
                raise
            continue
        sock.listen(2048)
        return sock
    raise OSError(f"no free port from 7860 to 7959 on {host}")


class Server:
    """The JSON API and the chat page on one uvicorn server, running in a thread."""

    def __init__(self, app, sock: socket.socket) -> None:
        import uvicorn

        self._app = app
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}/"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="rag-serve", daemon=True
        )
        self._sock = sock
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the server on {self.url} did not start")
            time.sleep(0.02)

    def wait(self) -> None:
        """Serve until interrupted (Ctrl+C)."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()
        self._app.state.pool.shutdown(wait=False, cancel_futures=True)


def launch(
    assistant: Assistant,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    examples: Sequence[str] = EXAMPLES,
    block: bool = True,
    quiet: bool = False,
) -> tuple[Server, str]:
    """Serve the chat page at / and the JSON API at /api on host:port, and print the URL.

    `port=None` takes the first free port from 7860, `port=0` any free port. With
    `block=False` it returns (server, url) at once and the caller closes the server. Users from
    RAG_AUTH or RAG_AUTH_FILE must log in (`ui.auth`); beyond loopback, some are required.
    """
    from .api import build_api
    from .auth import check_exposure, credentials, protect_api

    users = credentials()
    check_exposure(host, users)  # before anything starts: no login, no serving beyond loopback
    api = build_api(assistant)
    if users:
        protect_api(api, users)
    blocks = build_app(assistant, examples=examples)
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
        theme=_theme(),
        css=CSS,
    )
    sock = _bind(host, free_port(host) if port == 0 else port)
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
