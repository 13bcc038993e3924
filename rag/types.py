"""Frozen dataclasses that flow through the pipeline: Article, Passage, Evidence, Answer."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import Enum
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
    summary_only: bool = False  # a feed entry that gave its summary, not the whole story


@dataclass(frozen=True)
class Passage:
    """A window of consecutive sentences of one article, the unit of retrieval."""

    doc_index: int
    start: int
    end: int
    first_sentence: int  # index into the global sentence table
    last_sentence: int  # inclusive


@dataclass(frozen=True)
class ShortAnswer:
    """The answer itself inside an evidence sentence: `article.text[start:end] == text`.

    Attributes:
        text: the words that answer the question ("56 percent", "JD Group").
        start: where they start in the article's cleaned text.
        end: where they end in it (exclusive).
        score: the reader's probability for this span; 1.0 for a figure found by rule.
        source: who found it: "reader" (the reader's span head), "slots" (the figure of the
            asked measure whose subject matches best), "figure rule", or "metadata"
            (a field of the article's metadata, not in its text; then start == end == 0).
    """

    text: str
    start: int  # offsets in the article, like Evidence.start/end
    end: int
    score: float  # the reader's probability; the slot match; 1.0 for a figure found by rule
    # "reader" (its span head), "slots" (rag.answer.match), "figure rule" (rag.answer.figures)
    # or "metadata" (rag.answer.about: a field, not in the text; start == end == 0)
    source: str


@dataclass(frozen=True)
class Evidence:
    """One extracted sentence with its source; `text == article.text[start:end]`.

    Attributes:
        text: the sentence, verbatim from the article's cleaned text.
        doc_id: the article's id (a file's stem, `NAME` for `NAME.txt`).
        title: the article's title.
        publisher: its publisher.
        published: its publication date (ISO 8601), "" when unknown.
        start: where the sentence starts in the article's cleaned text.
        end: where it ends (exclusive).
        score: how likely the sentence answers the question, in [0, 1].
        short_answer: the likeliest answer inside this sentence; under an abstention, what the
            closest sentence would answer, not an answer.
        period: the time the sentence speaks of, resolved against `published` ("H1 2024",
            "2024-01/2024-05"), "" when it names none.
        field: "author", "publisher", "title" or "published" when this is a field of the article's
            metadata (`rag.answer.about`), not a sentence: then `text` is its value and
            start == end == 0; "" for a sentence.
        author: the article's author, "" when unknown.
        url: where the article is published (its page, a feed entry's link), "" when unknown.
    """

    text: str
    doc_id: str
    title: str
    publisher: str
    published: str
    start: int
    end: int
    score: float
    # The likeliest answer inside this sentence; under an abstention it is what the closest
    # sentence would answer, not an answer (Answer.short_answer is None then).
    short_answer: ShortAnswer | None = None
    period: str = ""  # the time period the sentence speaks of, resolved against `published`
    # "author", "publisher", "title" or "published" when this is a field of article metadata
    # (`rag.answer.about`), not a sentence: then `text` is its value and start == end == 0.
    field: str = ""
    author: str = ""
    url: str = ""

    def answer_offsets(self) -> tuple[int, int] | None:
        """Where the short answer lies within `text`, or None when there is none."""
        if self.short_answer is None:
            return None
        return self.short_answer.start - self.start, self.short_answer.end - self.start

    def mentions(self, term: str) -> bool:
        """Whether the sentence, or its article's title, names `term` (a whole word, any case)."""
        pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
        return bool(pattern.search(self.text) or pattern.search(self.title))

    def citation(self) -> str:
        """'Title — Author, Publisher, 2024-07-19, <url>' with whatever parts are known."""
        parts = (self.author, self.publisher, self.published[:10], self.url and f"<{self.url}>")
        source = ", ".join(part for part in parts if part)
        return f"{self.title} — {source}" if source else self.title


class Abstention(str, Enum):
    """Why an answer abstained.

    Attributes:
        NOTHING_FOUND: retrieval found no candidate sentence.
        LOW_CONFIDENCE: the best sentence is rated below the threshold.
        MISSING_TERMS: a name, year or figure of the question is found in no passage.
        WRONG_KIND: the best sentence's answer is not the kind of thing asked for.
        ASKED_MEASURE_MISSING: the best sentence states no figure of the asked measure (no
            growth rate for "how much did it grow", no price for "what does it cost").
        NOT_IN_METADATA: the article's metadata lacks the field asked for (author, publisher,
            date).
        NOT_A_QUESTION: a greeting or chit-chat, or no word of it is in the passages found
            ("hello", "asdf qwerty", "🚀🚀🚀").
        UNSUPPORTED_LANGUAGE: it is not written in English, the language the articles are in.
    """

    NOTHING_FOUND = "nothing_found"  # retrieval found no candidate sentence
    LOW_CONFIDENCE = "low_confidence"  # the best sentence is rated below the threshold
    MISSING_TERMS = "missing_terms"  # a name, year or figure of the question is nowhere found
    WRONG_KIND = "wrong_kind"  # the best sentence's answer is not the kind asked (`rag.answer.fit`)
    ASKED_MEASURE_MISSING = "asked_measure_missing"  # no figure of the asked measure is stated
    NOT_IN_METADATA = "not_in_metadata"  # the article's metadata lacks the field asked for
    NOT_A_QUESTION = "not_a_question"  # chit-chat, or none of its words is in the passages
    UNSUPPORTED_LANGUAGE = "unsupported_language"  # not in English, as the articles are

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Answer:
    """The reply to one question: cited sentences, a confidence, or an abstention.

    Attributes:
        question: the question as asked.
        text: the answer: the extracted sentences with `[1]`-style markers, after a lead when
            the articles give different figures or do not say.
        abstained: True when the articles do not answer it.
        confidence: how sure the answer is, in [0, 1]; below the threshold it abstains.
        evidence: the cited sentences, best first (the closest ones when it abstained).
        answered_question: the question as answered, after a follow-up was merged.
        mode: the retrieval that found the evidence: "bm25", "dense" or "hybrid".
        differing: positions in `evidence` of articles that give different figures for what
            was asked, to be read side by side; empty when the sources agree or are one.
        abstention: why it abstained; None when it answered.
        missing: the question's names, years or figures that no passage mentions.
        unstated: what was asked that no passage states, in words ("a growth rate of
            live-streaming sales for Yichang"), when that is why it abstained.
        scope: the articles and dates searched, when not all ("1 chosen article").
    """

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
    abstention: Abstention | None = None  # why it abstained; None when it answered
    missing: tuple[str, ...] = ()  # the question's names, years, figures no passage mentions
    # What was asked that no passage states, in words ("a growth rate of live-streaming sales
    # for Chongqing"), when it abstained for that (`Abstention.ASKED_MEASURE_MISSING`).
    unstated: str = ""
    scope: str = ""  # the articles and dates searched, when not all ("2 chosen articles")

    NOT_SAID = "The articles do not say."
    CLOSEST = "Closest passages, which may not answer it:"
    # "hello", "asdf qwerty", "🚀🚀🚀"; a question in Chinese.
    NOT_A_QUESTION = (
        "That is not a question the articles can answer: none of its words is in them. Ask a "
        "question about what they report, such as how much something grew or who did what."
    )
    UNSUPPORTED_LANGUAGE = (
        "The articles are in English: ask the question in English, and they are searched."
    )

    @staticmethod
    def abstention_lead(
        missing: tuple[str, ...], reason: Abstention | None = None, unstated: str = ""
    ) -> str:
        """ "The articles do not say." with the missing terms named, when there are some, or
        why no passage could be found, or what none of them states."""
        if reason is Abstention.NOT_A_QUESTION:
            return Answer.NOT_A_QUESTION
        if reason is Abstention.UNSUPPORTED_LANGUAGE:
            return Answer.UNSUPPORTED_LANGUAGE
        if reason is Abstention.ASKED_MEASURE_MISSING and unstated:
            return f"The articles do not say: none of the passages found states {unstated}."
        if not missing:
            return Answer.NOT_SAID
        return f"The articles do not say: {_missing_sentence(missing)}"

    def missing_sentence(self) -> str:
        """ "none of the passages found mentions “Tibet”." or "" when nothing is missing."""
        return _missing_sentence(self.missing) if self.missing else ""

    def lead(self) -> str:
        """What the answer says before its first citation: "The articles do not say…", or ""."""
        if self.abstained:
            return self.abstention_lead(self.missing, self.abstention, self.unstated)
        return self.text.split("[1]", 1)[0].strip()

    @property
    def short_answer(self) -> ShortAnswer | None:
        """The answer itself ("56 percent"), from the first evidence; None when abstained."""
        if self.abstained or not self.evidence:
            return None
        return self.evidence[0].short_answer

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `short_answer` is the property above."""
        data = asdict(self)
        short = self.short_answer
        data["short_answer"] = None if short is None else asdict(short)
        data["differing"] = list(self.differing)
        data["abstention"] = None if self.abstention is None else self.abstention.value
        data["missing"] = list(self.missing)
        return data


def _missing_sentence(missing: tuple[str, ...]) -> str:
    quoted = [f"“{t}”" for t in missing]
    named = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"none of the passages found mentions {named}."
