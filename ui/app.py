"""Gradio chat UI: a thin shell over `Assistant.ask` that shows cited sentences in context."""

from __future__ import annotations

import html
import json
import logging
import re
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.assistant import DEFAULT_CORPUS, validate_question
from rag.question import QUESTION_WORD

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.types import Answer, Article, Evidence

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
EXAMPLES = (
    "How much did Xinjiang live-streaming sales grow?",
    "What were network retail sales at the 2025 Chongqing 618 E-commerce Festival?",
    "Where is JD's Asia No. 1 logistics hub in Chongqing located?",
    "What share of worldwide online retail sales does China account for?",
)
HIGH_CONFIDENCE = 0.7  # at or above: "high"; between the abstention threshold and this: "medium"
CORPUS_PANEL_LIMIT = 200  # titles listed in the corpus panel; a big corpus is summarized
QUESTION_ECHO_LIMIT = 300  # characters of an oversized question echoed back in the chat
# Questions answered at once. Assistant.ask is read-only after construction and gives the same
# answers from 8 threads at once (tests/test_reliability_threads.py). Measured with rag.load on
# the 2-core dev machine, 16 clients x 10 requests, 4 runs per limit, mean ok p95 / p50:
# limit 1: 4.0 / 2.8 s (5.0 requests/s), 2: 3.9 / 2.5 s (5.6/s), 4: 3.7 / 2.3 s (5.7/s), 0 failed.
# 4 is best, by less than the spread between runs (about 1 s): with an instant fake embedder the
# same load still tops out near 5 requests/s, so gradio's queue and transport, not ask, set the
# pace; a limit above 1 only lets a slow question overlap with that overhead.
CONCURRENCY_LIMIT = 4

# --- follow-up questions ----------------------------------------------------------------------
#
# The rule, kept simple so that a reader can predict it (the answer always shows the question
# it actually answered):
#
# 1. A message is a follow-up when there is a previous question and the message either starts
#    with a connective ("and", "what about", "how about", "what of", ...) or is at most
#    FOLLOWUP_MAX_WORDS words long with no question word (what, which, who, when, where, why,
#    how) and no leading auxiliary verb (is, did, can, ...): "and in rural areas?", "Yichang?".
# 2. What follows the connective, the phrase, is merged into the previous question:
#    a. a phrase that is itself a question ("and how many brands took part?") replaces it;
#    b. a phrase naming a year replaces the previous question's years ("and in 2023?");
#    c. a phrase holding a capitalized name replaces the previous question's first name,
#       keeping a possessive: "what about Yichang?" after "How much did Xinjiang's sales grow?"
#       asks "How much did Yichang's sales grow?";
#    d. any other phrase is appended: "in rural areas" as is, a bare noun phrase after "for".

FOLLOWUP_MAX_WORDS = 4
_CONNECTIVES = (
    "and what about",
    "and how about",
    "and what of",
    "what about",
    "how about",
    "what of",
    "same for",
    "and also",
    "and",
)
_AUXILIARY = frozenset(
    "is are was were do does did can could will would should has have had may might must".split()
)
_PREPOSITIONS = frozenset(
    "in for during at on among from by with to of across between within over under after "
    "before since outside inside near around".split()
)
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_NAME = re.compile(r"\b[A-Z][\w’'&.-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w’'&.-]*)*")
# Capitalized only because they start the question, never names to substitute.
_NOT_NAMES = frozenset(
    "what which who whom whose when where why how is are was were do does did can could will "
    "would should has have had the a an in on of for by to and or at from during by".split()
)
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")


def resolve_followup(question: str, previous: str | None) -> str:
    """The question to answer: `question` itself, or merged with `previous` by the rule above."""
    text = " ".join(question.split())
    if not previous:
        return text
    body = text.rstrip(" ?.!")
    lower = body.lower()
    connective = next((c for c in _CONNECTIVES if lower == c or lower.startswith(c + " ")), None)
    words = body.split()
    if connective is not None:
        phrase = body[len(connective) :].strip(" ,;:")
    elif (
        0 < len(words) <= FOLLOWUP_MAX_WORDS
        and not QUESTION_WORD.search(body)
        and words[0].lower() not in _AUXILIARY
    ):
        phrase = body
    else:
        return text
    if not phrase:
        return text
    first = phrase.split()[0].lower()
    if QUESTION_WORD.match(phrase) or first in _AUXILIARY:
        return phrase[0].upper() + phrase[1:] + "?"
    base = " ".join(previous.split()).rstrip(" ?.!")
    year = _YEAR.search(phrase)
    if year and _YEAR.search(base):
        return _YEAR.sub(year.group(), base) + "?"
    new_names = _names(phrase)
    old_names = list(_name_spans(base))
    if new_names and old_names:
        start, end, old = old_names[0]
        new = _POSSESSIVE.sub("", new_names[0])
        suffix = _POSSESSIVE.search(old)
        if suffix:
            new += suffix.group()
        return base[:start] + new + base[end:] + "?"
    if first not in _PREPOSITIONS and not year:
        phrase = "for " + phrase
    return f"{base} {phrase}?"


def _name_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of capitalized names, leading question words dropped."""
    spans = []
    for match in _NAME.finditer(text):
        start, name = match.start(), match.group()
        while name and name.split()[0].lower() in _NOT_NAMES:
            head = name.split()[0]
            rest = name[len(head) :].lstrip()
            start += len(name) - len(rest)
            name = rest
        if name:
            spans.append((start, start + len(name), name))
    return spans


def _names(text: str) -> list[str]:
    return [name for _, _, name in _name_spans(text)]


# --- rendering ----------------------------------------------------------------------------------
#
# Every piece of article or user text goes through `_esc` and is then placed inside markup this
# module writes: the HTML component sets innerHTML, so escaping here is what keeps `<script>`,
# `<img onerror=...>` and markdown links in an article showing as the text they are.


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def confidence_level(confidence: float, threshold: float) -> str:
    """'high', 'medium' or 'low' for the confidence indicator."""
    if confidence >= max(HIGH_CONFIDENCE, threshold):
        return "high"
    return "medium" if confidence >= threshold else "low"


def render_sentence(evidence: Evidence, *, emphasize: bool = True) -> str:
    """The sentence, escaped, with the key figure (`answer_span`) in a <mark>."""
    text = evidence.text
    span = evidence.answer_span if emphasize else None
    if span is None or not 0 <= span[0] < span[1] <= len(text):
        return _esc(text)
    start, end = span
    return (
        _esc(text[:start])
        + f'<mark class="rag-figure">{_esc(text[start:end])}</mark>'
        + _esc(text[end:])
    )


def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the paragraph ("\\n\\n"-separated) that holds text[start:end]."""
    lo = text.rfind("\n\n", 0, start)
    lo = 0 if lo < 0 else lo + 2
    hi = text.find("\n\n", end)
    return lo, len(text) if hi < 0 else hi


def render_context(evidence: Evidence, article: Article | None) -> str:
    """The surrounding paragraph with the cited sentence highlighted."""
    sentence = render_sentence(evidence)
    if article is None or article.text[evidence.start : evidence.end] != evidence.text:
        # The index and the articles disagree (should not happen); show the sentence alone.
        return f'<mark class="rag-cited">{sentence}</mark>'
    lo, hi = paragraph_bounds(article.text, evidence.start, evidence.end)
    return (
        _esc(article.text[lo : evidence.start])
        + f'<mark class="rag-cited">{sentence}</mark>'
        + _esc(article.text[evidence.end : hi])
    )


def render_citation(evidence: Evidence) -> str:
    """Title, publisher and date of the article a sentence comes from."""
    parts = [
        f'<span class="rag-publisher">{_esc(evidence.publisher or "publisher unknown")}</span>',
        f'<span class="rag-date">{_esc(evidence.published[:10] or "date unknown")}</span>',
    ]
    if evidence.period:
        parts.append(f'<span class="rag-period">about {_esc(evidence.period)}</span>')
    return (
        f'<span class="rag-title">{_esc(evidence.title or evidence.doc_id)}</span>'
        f'<span class="rag-meta">{" · ".join(parts)}</span>'
    )


def render_sources(
    evidence: Sequence[Evidence], articles: Mapping[str, Article], *, heading: str
) -> str:
    """Each cited article once (title, publisher, date), then each of its sentences in context.

    Sentences keep their answer's [n] numbers; the paragraph around each is a <details> so the
    list stays short until the reader asks to see a sentence in its place.
    """
    groups: dict[str, list[tuple[int, Evidence]]] = {}
    for number, item in enumerate(evidence, start=1):
        groups.setdefault(item.doc_id, []).append((number, item))
    entries = []
    for doc_id, cited in groups.items():
        markers = " ".join(f'<span class="rag-marker">[{number}]</span>' for number, _ in cited)
        contexts = "".join(
            f'<details class="rag-context"><summary>Show [{number}] in context</summary>'
            f'<p class="rag-paragraph">{render_context(item, articles.get(doc_id))}</p></details>'
            for number, item in cited
        )
        entries.append(
            f'<li class="rag-source" data-doc-id="{_esc(doc_id)}">'
            f'<div class="rag-source-head">{markers} {render_citation(cited[0][1])}</div>'
            f"{contexts}</li>"
        )
    return (
        f'<div class="rag-sources"><div class="rag-sources-title">{_esc(heading)}</div>'
        f'<ul class="rag-source-list">{"".join(entries)}</ul></div>'
    )


def render_differing(answer: Answer) -> str:
    """The figures that different articles give for the question, side by side with dates."""
    rows = []
    for position in answer.differing:
        item = answer.evidence[position]
        start, end = item.answer_span or (0, 0)
        rows.append(
            f"<li><strong>{_esc(item.text[start:end])}</strong> "
            f'<span class="rag-marker">[{position + 1}]</span> {_esc(item.citation())}</li>'
        )
    return (
        '<div class="rag-differing">The articles give different figures; read them with '
        f"their dates:<ul>{''.join(rows)}</ul></div>"
    )


def render_answer(
    answer: Answer,
    articles: Mapping[str, Article],
    *,
    threshold: float,
    asked: str | None = None,
) -> str:
    """An answer bubble: the sentences with [n] markers, confidence, sources in context.

    `asked` is what the person typed; when it differs from the question actually answered (a
    follow-up was merged with the previous question) the bubble says what was answered.
    """
    parts = []
    answered = answer.answered_question or answer.question
    if asked is not None and " ".join(asked.split()) != answered:
        parts.append(f'<div class="rag-answered-as">Answered as: <q>{_esc(answered)}</q></div>')
    sentences = " ".join(
        f'<span class="rag-sentence"><span class="rag-marker">[{number}]</span> '
        f"{render_sentence(item, emphasize=not answer.abstained)}</span>"
        for number, item in enumerate(answer.evidence, start=1)
    )
    if answer.abstained:
        reason = answer.lead().removeprefix("The articles do not say").lstrip(".: ")
        detail = (
            _esc(reason[:1].upper() + reason[1:])
            if reason
            else ("None of the indexed articles answers this question.")
        )
        parts.append(
            f'<div class="rag-abstain"><strong>The articles do not say.</strong> {detail}</div>'
        )
        if answer.evidence:
            parts.append(
                '<div class="rag-closest-label">Closest passages — these may not answer it:</div>'
                f'<div class="rag-closest">{sentences}</div>'
            )
    else:
        if answer.differing:
            parts.append(render_differing(answer))
        parts.append(f'<div class="rag-answer">{sentences}</div>')
    level = confidence_level(answer.confidence, threshold)
    percent = round(answer.confidence * 100)
    parts.append(
        f'<div class="rag-confidence rag-{level}" '
        f"title=\"The scorer's estimate that the first sentence answers the question; "
        f'below {threshold:.2f} the assistant abstains.">'
        f'<span class="rag-meter"><span style="width:{percent}%"></span></span>'
        f"Confidence: {level} ({answer.confidence:.2f})</div>"
    )
    if answer.evidence:
        heading = "Where the closest passages come from" if answer.abstained else "Sources"
        parts.append(render_sources(answer.evidence, articles, heading=heading))
    kind = "rag-abstained" if answer.abstained else "rag-answered"
    return f'<div class="rag-reply {kind}">{"".join(parts)}</div>'


def render_error(message: str) -> str:
    """A problem with the question, shown in the chat instead of an answer."""
    return f'<div class="rag-reply rag-error"><strong>Cannot answer:</strong> {_esc(message)}</div>'


def _echo(question: str) -> str:
    if len(question) <= QUESTION_ECHO_LIMIT:
        return question
    return f"{question[:QUESTION_ECHO_LIMIT]}… ({len(question):,} characters)"


def render_conversation(turns: Sequence[Sequence[str]]) -> str:
    """The chat: each turn a (question, rendered reply) pair, oldest first."""
    if not turns:
        return (
            '<div class="rag-chat rag-empty">Ask a question about the articles, or click an '
            "example below. Every answer is made of sentences copied from the articles, each "
            "with its source.</div>"
        )
    bubbles = []
    for question, reply in turns:
        shown = _echo(question) if question.strip() else "(empty question)"
        bubbles.append(
            f'<div class="rag-turn"><div class="rag-user">{_esc(shown)}</div>'
            f'<div class="rag-bot">{reply}</div></div>'
        )
    return f'<div class="rag-chat">{"".join(bubbles)}</div>'


def render_corpus(assistant: Assistant) -> str:
    """How much is indexed, and the articles' titles and dates."""
    report = assistant.build_report
    rows = []
    for article in sorted(assistant.articles, key=lambda a: a.published, reverse=True)[
        :CORPUS_PANEL_LIMIT
    ]:
        meta = " · ".join(
            p for p in (article.publisher, article.published[:10] or "date unknown") if p
        )
        rows.append(
            f'<li><span class="rag-title">{_esc(article.title or article.doc_id)}</span>'
            f'<span class="rag-meta">{_esc(meta)}</span></li>'
        )
    more = len(assistant.articles) - len(rows)
    if more > 0:
        rows.append(f"<li>… and {more:,} more</li>")
    return (
        f'<div class="rag-corpus"><p class="rag-counts"><strong>{report.articles:,}</strong> '
        f"articles · <strong>{report.passages:,}</strong> passages · "
        f"<strong>{report.sentences:,}</strong> sentences indexed</p>"
        f'<ul class="rag-corpus-list">{"".join(rows)}</ul></div>'
    )


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
.rag-answered-as { font-size: 0.9em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.rag-answer, .rag-closest { line-height: 1.6; overflow-wrap: anywhere; }
.rag-sentence + .rag-sentence::before { content: " "; }
.rag-marker { font-weight: 600; color: var(--color-accent); font-size: 0.9em; }
mark.rag-figure { background: #fde68a; color: #111827; font-weight: 700; padding: 0 3px;
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
"""


# Runs once in the browser. The HTML component re-renders by diffing attributes, which would
# close every opened "in context" paragraph when a new answer arrives, so the open ones are
# remembered (by position: the conversation only grows, until it is cleared) and reopened.
# Then the newest turn is scrolled to the top of the chat box, so a long answer reads from
# its start.
CHAT_JS = """
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
    return gr.themes.Soft(
        primary_hue="indigo",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def chat_reply(
    assistant: Assistant,
    question: object,
    previous: str | None,
    *,
    articles: Mapping[str, Article] | None = None,
) -> tuple[str, str | None]:
    """One chat turn: (reply HTML, the question the next follow-up builds on).

    A follow-up is merged with `previous` (see `resolve_followup`); a bad question becomes an
    error message in the chat, and `previous` is kept so the conversation can go on.
    """
    if articles is None:
        articles = {article.doc_id: article for article in assistant.articles}
    try:
        cleaned = validate_question(question)
        resolved = resolve_followup(cleaned, previous)
        answer = assistant.ask(resolved)
    except (TypeError, ValueError) as exc:
        return render_error(str(exc)), previous
    except Exception:  # the page must keep working whatever one question does
        log.exception("answering %r failed", question)
        return render_error("something went wrong while answering; please try again."), previous
    threshold = assistant.settings.threshold
    html_reply = render_answer(answer, articles, threshold=threshold, asked=cleaned)
    return html_reply, answer.answered_question or resolved


def build_app(assistant: Assistant, *, examples: Sequence[str] = EXAMPLES) -> gr.Blocks:
    """The chat page and the `/ask` API endpoint over one loaded assistant."""
    articles = {article.doc_id: article for article in assistant.articles}

    def respond(
        question: str, turns: list[list[str]] | None, previous: str | None
    ) -> tuple[str, str, list[list[str]], str | None]:
        reply_html, previous = chat_reply(assistant, question, previous, articles=articles)
        turns = [*(turns or []), [question or "", reply_html]]
        return "", render_conversation(turns), turns, previous

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
                with gr.Row(equal_height=True):
                    gr.Markdown(
                        "Follow-ups such as *and in rural areas?* or *what about Yichang?* are "
                        "merged into the previous question; the answer shows the question it "
                        "answered.",
                        elem_classes="rag-hint",
                    )
                    reset = gr.Button(
                        "Clear conversation",
                        size="sm",
                        scale=0,
                        min_width=150,
                        elem_id="rag-clear",
                    )
            with gr.Column(scale=2, min_width=280):
                with gr.Accordion("Corpus", open=True):
                    gr.HTML(render_corpus(assistant), elem_id="rag-corpus", js_on_load=None)

        outputs = [box, chat, turns, previous]
        common = {"outputs": outputs, "api_visibility": "private", "show_progress": "minimal"}
        box.submit(respond, inputs=[box, turns, previous], **common)
        send.click(respond, inputs=[box, turns, previous], **common)
        for button in buttons:
            button.click(respond, inputs=[button, turns, previous], **common)
        reset.click(clear, outputs=outputs, api_visibility="private", queue=False)
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


def launch(
    assistant: Assistant,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    examples: Sequence[str] = EXAMPLES,
    block: bool = True,
    quiet: bool = False,
) -> tuple[gr.Blocks, str]:
    """Serve the app on host:port (no public share link) and print its URL.

    `port=None` takes the first free port from 7860, `port=0` any free port. With
    `block=False` it returns (app, url) at once and the caller closes the app.
    """
    app = build_app(assistant, examples=examples)
    app.queue(default_concurrency_limit=CONCURRENCY_LIMIT)
    _, url, _ = app.launch(
        server_name=host,
        server_port=free_port(host) if port == 0 else port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        footer_links=["api"],
        theme=_theme(),
        css=CSS,
    )
    url = url.rstrip("/") + "/"
    if not quiet:
        print(f"News QA web UI running at {url} (Ctrl+C to stop)", flush=True)
    if block:
        try:
            app.block_thread()
        finally:
            app.close()
    return app, url
