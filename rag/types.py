"""Frozen dataclasses that flow through the pipeline: Article, Passage, Evidence, Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One cleaned article; every offset in the index points into `text`."""

    doc_id: str
    text: str
    title: str = ""
    publisher: str = ""
    published: str = ""  # ISO 8601 date or date-time, "" when unknown
    url: str = ""
    author: str = ""
    source: str = ""  # the file it was read from, relative to the corpus directory


@dataclass(frozen=True)
class Passage:
    """A window of consecutive sentences of one article, the unit of retrieval."""

    doc_index: int
    start: int
    end: int
    first_sentence: int  # index into the global sentence table
    last_sentence: int  # inclusive


@dataclass(frozen=True)
class Evidence:
    """One extracted sentence with its source; `text == article.text[start:end]`."""

    text: str
    doc_id: str
    title: str
    publisher: str
    published: str
    start: int
    end: int
    score: float
    answer_span: tuple[int, int] | None = None  # offsets of the key figure within `text`
    period: str = ""  # the time period the sentence speaks of, resolved against `published`

    def citation(self) -> str:
        """'Title — Publisher, 2024-07-19' with whatever parts are known."""
        source = ", ".join(part for part in (self.publisher, self.published[:10]) if part)
        return f"{self.title} — {source}" if source else self.title


@dataclass(frozen=True)
class Answer:
    """The reply to one question: cited sentences, a confidence, or an abstention."""

    question: str
    text: str
    abstained: bool
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    answered_question: str = ""  # the question as actually answered (after follow-up rewriting)
    mode: str = "hybrid"
    # Positions in `evidence` of articles that give different figures for what was asked,
    # to be read side by side with their dates; empty when the sources agree or are one.
    differing: tuple[int, ...] = ()

    def lead(self) -> str:
        """What the answer says before its first citation: "The articles do not say…", or ""."""
        return (
            self.text.split("[1]", 1)[0]
            .strip()
            .removesuffix("Closest passages, which may not answer it:")
            .strip()
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        for item in data["evidence"]:
            if item["answer_span"] is not None:
                item["answer_span"] = list(item["answer_span"])
        data["differing"] = list(self.differing)
        return data
