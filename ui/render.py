"""HTML for the chat: answers, sources in context, differing figures, the corpus panel."""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.answer.compose import figure_label
from rag.answer.scorer import HIGH_CONFIDENCE
from rag.answer.timeref import period_label
from rag.types import Answer

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.index.upload import Uploaded
    from rag.types import Article, Evidence

CORPUS_PANEL_LIMIT = 200  # titles listed in the corpus panel; a big corpus is summarized
QUESTION_ECHO_LIMIT = 300  # characters of an oversized question echoed back in the chat

## Every piece of article or user text goes through `_esc` and is then placed inside markup this
# module writes: the HTML component sets innerHTML, so escaping here is what keeps `<script>`,
# `<img onerror=...>` and markdown links in an article showing as the text they are.


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def confidence_level(confidence: float, threshold: float, high: float) -> str:
    """'high' from `high`, 'medium' from the abstention `threshold`, else 'low': the levels
    `rag eval --calibrate` chose on the development file."""
    if confidence >= max(high, threshold):
        return "high"
    return "medium" if confidence >= threshold else "low"


def render_sentence(evidence: Evidence, *, emphasize: bool = True) -> str:
    """The sentence, escaped, with its short answer in a <mark>."""
    text = evidence.text
    span = evidence.answer_offsets() if emphasize else None
    if span is None or not 0 <= span[0] < span[1] <= len(text):
        return _esc(text)
    start, end = span
    return (
        _esc(text[:start])
        + f'<mark class="rag-short-answer">{_esc(text[start:end])}</mark>'
        + _esc(text[end:])
    )


def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the paragraph ("\\n\\n"-separated) that holds text[start:end]."""
    lo = text.rfind("\n\n", 0, start)
    lo = 0 if lo < 0 else lo + 2
    hi = text.find("\n\n", end)
    return lo, len(text) if hi < 0 else hi


def render_context(evidence: Evidence, article: Article | None, *, emphasize: bool = True) -> str:
    """The surrounding paragraph with the cited sentence highlighted."""
    sentence = render_sentence(evidence, emphasize=emphasize)
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
    """Title (a link to the article's page when it has one), author, publisher and date of the
    article a sentence comes from."""
    parts = [
        f'<span class="rag-publisher">{_esc(evidence.publisher or "publisher unknown")}</span>',
        f'<span class="rag-date">{_esc(evidence.published[:10] or "date unknown")}</span>',
    ]
    if evidence.author:
        parts.insert(0, f'<span class="rag-author">{_esc(evidence.author)}</span>')
    if evidence.period:  # what the sentence speaks of, as people write it: "January–May 2024"
        label = _esc(period_label(evidence.period))
        parts.append(f'<span class="rag-period">covering {label}</span>')
    title = _esc(evidence.title or evidence.doc_id)
    if evidence.url.startswith(("https://", "http://")):  # never a javascript: link
        title = (
            f'<a href="{_esc(evidence.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        )
    return (
        f'<span class="rag-title">{title}</span><span class="rag-meta">{" · ".join(parts)}</span>'
    )


def render_sources(
    evidence: Sequence[Evidence],
    articles: Mapping[str, Article],
    *,
    heading: str,
    emphasize: bool | Collection[int] = True,
) -> str:
    """Each cited article once (title, publisher, date), then each of its sentences in context.

    Sentences keep their answer's [n] numbers; the paragraph around each is a <details> so the
    list stays short until the reader asks to see a sentence in its place. `emphasize`: mark
    the short answer in every sentence, in none, or in those at these positions of `evidence`.
    """
    groups: dict[str, list[tuple[int, Evidence]]] = {}
    for number, item in enumerate(evidence, start=1):
        groups.setdefault(item.doc_id, []).append((number, item))
    marked = _marked(emphasize, len(evidence))
    entries = []
    for doc_id, cited in groups.items():
        markers = " ".join(f'<span class="rag-marker">[{number}]</span>' for number, _ in cited)
        contexts = "".join(
            f'<details class="rag-context"><summary>Show [{number}] in context</summary>'
            f'<p class="rag-paragraph">'
            f"{render_context(item, articles.get(doc_id), emphasize=number - 1 in marked)}"
            "</p></details>"
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
    """The figures that different articles give for the question, side by side: each with what
    it measures, its period and its source."""
    rows = []
    for position in answer.differing:
        item = answer.evidence[position]
        figure = item.short_answer.text if item.short_answer else ""
        label = figure_label(replace(item, period=period_label(item.period)))
        rows.append(
            f"<li><strong>{_esc(figure)}</strong> ({_esc(label)}) "
            f'<span class="rag-marker">[{position + 1}]</span> {_esc(item.citation())}</li>'
        )
    return (
        '<div class="rag-differing">The articles give different figures; read them with '
        f"their dates:<ul>{''.join(rows)}</ul></div>"
    )


def with_citations(answer: Answer) -> str:
    """The answer as plain text to paste elsewhere: what it says, each cited sentence on a line
    of its own, then one line per citation: "[n] Title — Publisher, date, characters
    120–245 of doc_id" (where in its article the sentence lies)."""
    short = f"Answer: {answer.short_answer.text}" if answer.short_answer else ""
    lead = answer.lead()
    body = "\n".join(f"[{n}] {item.text}" for n, item in enumerate(answer.evidence, start=1))
    if answer.abstained and answer.evidence:
        body = f"{Answer.CLOSEST}\n{body}"
    sources = "\n".join(
        f"[{n}] {source_line(item)}" for n, item in enumerate(answer.evidence, start=1)
    )
    return "\n\n".join(part for part in (short, lead, body, sources) if part)


def source_line(item: Evidence) -> str:
    """ "Title — Publisher, 2024-07-19, characters 120–245 of doc_id": a citation to find the
    sentence by, in its article or through the API's /api/articles."""
    title = item.title or item.doc_id
    publisher = item.publisher or "publisher unknown"
    date = item.published[:10] or "date unknown"
    link = f", {item.url}" if item.url else ""
    return (
        f"{title} — {publisher}, {date}, characters {item.start}–{item.end} of {item.doc_id}{link}"
    )


def answering(answer: Answer) -> set[int]:
    """Positions in `answer.evidence` of the sentences that give its answer: the one its short
    answer comes from and those whose differing figures it sets side by side. Only these show
    a highlighted short answer; the other cited sentences support it without answering."""
    short = answer.short_answer
    if answer.abstained or short is None:
        return set()
    given = next((n for n, item in enumerate(answer.evidence) if item.short_answer is short), None)
    if given is None:
        given = next((n for n, e in enumerate(answer.evidence) if e.short_answer == short), None)
    return ({given} if given is not None else set()) | set(answer.differing)


def _marked(emphasize: bool | Collection[int], count: int) -> Collection[int]:
    if emphasize is True:
        return range(count)
    return () if emphasize is False else emphasize


def render_answer(
    answer: Answer,
    articles: Mapping[str, Article],
    *,
    threshold: float,
    high: float = HIGH_CONFIDENCE,
    asked: str | None = None,
    chart: str = "",
) -> str:
    """An answer bubble: the sentences with [n] markers, confidence, sources in context.

    `asked` is what the person typed; when it differs from the question actually answered (a
    follow-up was merged with the previous question) the bubble says what was answered.
    `chart` (`ui.figures.render_charts`) shows under the sentences of an answer that sets
    figures side by side.
    """
    parts = []
    answered = answer.answered_question or answer.question
    if asked is not None and " ".join(asked.split()) != answered:
        parts.append(
            f'<div class="rag-answered-as">Answered as: <q>{_esc(answered)}</q> '
            f'<button type="button" class="rag-ask-anew" data-question="{_esc(asked)}">'
            "Ask as a new question</button></div>"
        )
    if answer.scope:
        parts.append(f'<div class="rag-scope">Searched only: {_esc(answer.scope)}</div>')
    marked = answering(answer)
    sentences = "".join(
        f'<li class="rag-sentence"><span class="rag-marker">[{number}]</span> '
        f"{render_sentence(item, emphasize=number - 1 in marked)}</li>"
        for number, item in enumerate(answer.evidence, start=1)
    )
    if answer.abstained:
        reason = answer.missing_sentence()
        if answer.unstated:  # what was asked that no passage states
            detail = _esc(f"None of the passages found states {answer.unstated}.")
        elif reason:
            detail = _esc(reason[:1].upper() + reason[1:])
        elif answer.evidence:  # what it shows below: passages that came closest
            detail = "The closest passages found may not answer it."
        else:
            detail = "None of the indexed articles answers this question."
        parts.append(
            f'<div class="rag-abstain"><strong>The articles do not say.</strong> {detail}</div>'
        )
        if answer.evidence:
            parts.append(
                '<div class="rag-closest-label">Closest passages — these may not answer it:</div>'
                f'<ul class="rag-closest">{sentences}</ul>'
            )
    else:
        parts += _answered(answer, sentences)
        if chart:
            parts.append(
                '<div class="rag-chart-label">The figures side by side, like with like; open a '
                f"bar for its sentence:</div>{chart}"
            )
    level = confidence_level(answer.confidence, threshold, high)
    percent = round(answer.confidence * 100)
    parts.append(
        f'<div class="rag-confidence rag-{level}" '
        f"title=\"The scorer's estimate that the first sentence answers the question; "
        f"below {threshold:.2f} the assistant abstains, from {max(high, threshold):.2f} it is "
        f'rated high.">'
        f'<span class="rag-meter"><span style="width:{percent}%"></span></span>'
        f"Confidence: {level} ({answer.confidence:.2f})</div>"
    )
    if answer.evidence:
        heading = "Where the closest passages come from" if answer.abstained else "Sources"
        parts.append(render_sources(answer.evidence, articles, heading=heading, emphasize=marked))
    kind = "rag-abstained" if answer.abstained else "rag-answered"
    copied = _esc(with_citations(answer))
    parts.append(
        f'<button type="button" class="rag-copy" data-copy="{copied}">Copy with citations</button>'
    )
    return f'<div class="rag-reply {kind}" data-markdown="{copied}">{"".join(parts)}</div>'


def _answered(answer: Answer, sentences: str) -> list[str]:
    """The short answer, the side-by-side figures when articles differ, then the sentences."""
    parts = []
    if answer.short_answer is not None:
        short = _esc(answer.short_answer.text)
        parts.append(f'<div class="rag-short">Answer: <strong>{short}</strong></div>')
    if answer.differing:
        parts.append(render_differing(answer))
    parts.append(f'<ul class="rag-answer">{sentences}</ul>')
    return parts


def render_error(message: str) -> str:
    """A problem with the question, shown in the chat instead of an answer."""
    return f'<div class="rag-reply rag-error"><strong>Cannot answer:</strong> {_esc(message)}</div>'


def render_date_problem(message: str) -> str:
    """What is wrong with the date filter, under its fields; an empty live region when nothing
    is, so that a screen reader reads a message as soon as it appears."""
    return f'<p class="rag-date-problem" role="status">{_esc(message)}</p>'


def render_pending(message: str) -> str:
    """A reply still being worked on (an upload being indexed), replaced once it is done."""
    return f'<div class="rag-reply rag-pending" role="status">{_esc(message)}</div>'


def render_upload(uploaded: Uploaded) -> str:
    """What an upload did: the files added, each file or line refused and why, the cleaning."""
    report = uploaded.report
    parts = []
    if uploaded.error:
        parts.append(f"<p><strong>Nothing was added:</strong> {_esc(uploaded.error)}</p>")
    if report.added:
        items = "".join(
            f"<li>{_esc(item.given)} → <code>{_esc(item.path)}</code>, {item.articles} "
            f"article{'s' if item.articles != 1 else ''}</li>"
            for item in report.added
        )
        parts.append(f"<p><strong>Added and indexed:</strong></p><ul>{items}</ul>")
    if report.problems:
        items = "".join(f"<li>{_esc(str(problem))}</li>" for problem in report.problems)
        parts.append(f"<p><strong>Not added:</strong></p><ul>{items}</ul>")
    if uploaded.details:
        items = "".join(f"<li>{_esc(line.strip())}</li>" for line in uploaded.details)
        parts.append(
            f"<details><summary>How they were read and cleaned</summary><ul>{items}</ul></details>"
        )
    return f'<div class="rag-reply rag-upload">{"".join(parts) or "Nothing was given."}</div>'


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
