"""Questions about the articles themselves (who wrote, who published, when, the title): metadata."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..ingest.text import tokenize
from ..settings import Mode
from ..types import Abstention, Answer, Article, Evidence, ShortAnswer
from .compose import cited

# Each field with the questions that ask for it; the question must also speak of an article
# ("the Yichang article", "this story"), or "Who wrote about X?" would never reach the text.
_ASKS = (
    (
        "author",
        re.compile(
            r"\bwho (?:wrote|has written|authored|reported|penned"
            r"|is the (?:author|writer|reporter))\b|\b(?:author|byline|writer|reporter)s? of\b"
            r"|\bwritten by whom\b",
            re.I,
        ),
    ),
    (
        "publisher",
        re.compile(
            r"\bwho (?:published|publishes|ran|carried)\b|\bpublisher of\b"
            r"|\b(?:which|what) (?:publication|publisher|outlet|newspaper|paper|site|website|media)"
            r"\b.*\b(?:publish|ran|carried|run)",
            re.I,
        ),
    ),
    ("title", re.compile(r"\b(?:title|headline)\b", re.I)),
    (
        "published",
        re.compile(
            r"\bwhen (?:was|were|did)\b.*\b(?:publish(?:ed)?|written|posted|released|come out)\b"
            r"|\b(?:publication|publishing|release) date\b|\bwhat (?:day|date)\b.*\bpublished\b",
            re.I,
        ),
    ),
)
_ARTICLE = re.compile(r"\b(?:articles?|story|stories|report|piece|news item|post)\b", re.I)
LABELS = {
    "author": "author",
    "publisher": "publisher",
    "title": "title",
    "published": "publication date",
}
# Words of such a question that never name the article it is about.
_NOT_NAMING = frozenset(
    tokenize(
        "who wrote written write author authored byline writer reporter reported penned "
        "publisher published publish publication publishing date day release released posted "
        "when what which was were did article articles story report piece news item post "
        "outlet newspaper paper site website media ran carried come out whom title headline",
    )
)


@dataclass(frozen=True)
class MetadataQuestion:
    """A question that asks for a field of an article's metadata, and the words naming it."""

    field: str  # "author", "publisher", "title" or "published"
    naming: tuple[str, ...]  # the question's tokens that may name the article ("yichang")


def metadata_question(question: str) -> MetadataQuestion | None:
    """What `question` asks of an article's metadata ("Who wrote the Yichang article?"), or
    None when it is a question about what the articles say."""
    if not _ARTICLE.search(question):
        return None
    for field, asks in _ASKS:
        if asks.search(question):
            naming = tuple(t for t in tokenize(question) if t not in _NOT_NAMING)
            return MetadataQuestion(field, naming)
    return None


def articles_named(asked: MetadataQuestion, articles: Sequence[Article]) -> list[Article]:
    """The articles the question's words name best: by their titles, then their text; all of
    them when it names none and there is only one."""
    if not asked.naming:
        return list(articles) if len(articles) == 1 else []
    words = set(asked.naming)

    def score(article: Article) -> tuple[int, int]:
        return (
            len(words & set(tokenize(article.title))),
            len(words & set(tokenize(article.text))),
        )

    scores = {article.doc_id: score(article) for article in articles}
    best = max(scores.values(), default=(0, 0))
    if best == (0, 0):
        return []
    return [article for article in articles if scores[article.doc_id] == best]


def answer_from_metadata(
    question: str, asked: MetadataQuestion, articles: Sequence[Article], mode: Mode
) -> Answer:
    """The field asked for, of each article the question names, cited to that article; an
    abstention when it names none of `articles` or their metadata lacks the field."""
    named = articles_named(asked, articles)
    label = LABELS[asked.field]
    if not named:
        said = f"No article matches “{question}”: name one by a word of its title."
        return _abstain(question, said, Abstention.NOTHING_FOUND, mode)
    evidence = [_field(article, asked.field) for article in named]
    known = [item for item in evidence if item.text]
    if not known:
        titles = ", ".join(f"“{article.title or article.doc_id}”" for article in named)
        said = f"The metadata of {titles} names no {label}."
        return _abstain(question, said, Abstention.NOT_IN_METADATA, mode)
    text = f"The {label}, from the article's metadata: {cited(known)}"
    return Answer(question, text, False, 1.0, known, question, mode.value)


def _abstain(question: str, said: str, reason: Abstention, mode: Mode) -> Answer:
    """ "The articles do not say." and why, with no evidence to show."""
    text = f"{Answer.NOT_SAID} {said}"
    return Answer(question, text, True, 0.0, [], question, mode.value, abstention=reason)


def _field(article: Article, field: str) -> Evidence:
    """The article's `field` as evidence ("" when its metadata lacks it)."""
    value = getattr(article, field)
    value = value[:10] if field == "published" else value
    return Evidence(
        text=value,
        doc_id=article.doc_id,
        title=article.title or article.doc_id,
        publisher=article.publisher,
        published=article.published,
        author=article.author,
        url=article.url,
        start=0,
        end=0,
        score=1.0,
        short_answer=ShortAnswer(value, 0, 0, 1.0, "metadata") if value else None,
        field=field,
    )
