"""The figures table: every figure of a corpus with what it measures, of what, where and when."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..ingest.text import split_sentences, tokenize
from ..types import Article
from .figures import CURRENCIES, FIGURE, YEAR, figure_measure, figure_subject
from .timeref import resolve_period

# Figures kinds in the order they claim a stretch of text: "53.42 billion yuan" is money, not a
# count of 53.42 billion; "12.9%" a percentage.
_KINDS = ("percentage", "money", "quantity")
_MAGNITUDES = {
    "thousand": 1e3,
    "million": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "trillion": 1e12,
}
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_COUNT = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:\s(?:thousand|million|billion|trillion))?")
_WORD = re.compile(r"[A-Za-z][\w-]*")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[’'][a-z])?")
_YEAR_ONLY = re.compile(rf"^(?:{YEAR})$")
# A number right after a name or a month is part of it: "Double 11", "link 1", "June 13".
_NAMED_BEFORE = re.compile(r"(?:\b[A-Z][\w.]*|\blink|\bNo\.)\s$")
# Words that end the noun phrase a count counts: "419 key trade enterprises achieved ..."
_PHRASE_END = frozenset(
    "of in on at to for from by with and or but that which who were was is are have has had "
    "across during since than as".split()
)


@dataclass(frozen=True)
class FigureRecord:
    """One figure of one sentence, with what it measures and its source.

    Attributes:
        value: the figure as written ("15 percent", "3.6 billion yuan", "700 brands").
        number: its value as a number (15.0, 3.6e9, 700.0).
        unit: "percent", "percentage points", a currency code ("CNY", "USD") or a count's noun.
        measure: "growth", "share", "amount" or "level" (`figures.figure_measure`).
        subject: what it is a figure of ("total online retail sales"), "" when unnamed.
        place: the region or company its sentence is about, when the article's title names it
            too; "" when unknown (never borrowed from elsewhere).
        period: the period its sentence speaks of ("H1 2024"), "" when it names none.
        sentence: the sentence it stands in.
        doc_id: its article.
        title: its article's title.
        publisher: its article's publisher.
        published: its article's date.
        start: where the figure starts in the article's text.
        end: where it ends: `article.text[start:end] == value`.
    """

    value: str
    number: float
    unit: str
    measure: str
    subject: str
    place: str
    period: str
    sentence: str
    doc_id: str
    title: str
    publisher: str
    published: str
    start: int
    end: int


def figure_records(articles: Sequence[Article]) -> list[FigureRecord]:
    """Every figure of `articles`, in reading order: percentages, amounts of money and counts
    (a bare year or a date is no figure)."""
    return [
        record
        for article in articles
        for titled in (frozenset(tokenize(article.title)),)  # once an article, not a sentence
        for start, end in split_sentences(article.text)
        for record in _records(article, start, end, titled)
    ]


def select(
    records: Sequence[FigureRecord],
    *,
    measure: str | None = None,
    about: str | None = None,
    place: str | None = None,
    article: str | None = None,
) -> list[FigureRecord]:
    """The records of one `measure`, of what `about` names (`_about`), of one `place` and one
    `article`; None leaves a field open."""
    return [
        r
        for r in records
        if (measure is None or r.measure == measure)
        and (not about or _about(about, r.subject))
        and (place is None or r.place.lower() == place.lower())
        and (article is None or r.doc_id == article)
    ]


def _about(about: str, subject: str) -> bool:
    """Whether `subject` is a figure of what `about` names: its head word ("sales") and, when it
    names more, another of its words ("online sales" for "online retail sales")."""
    wanted, words = tokenize(about), set(tokenize(subject))
    if not wanted or wanted[-1] not in words:
        return False
    return len(wanted) == 1 or len(words.intersection(wanted)) >= 2


def _records(
    article: Article, start: int, end: int, titled: frozenset[str]
) -> Iterator[FigureRecord]:
    sentence = article.text[start:end]
    period = resolve_period(sentence, article.published)
    place = _place(sentence, titled)
    taken: list[tuple[int, int]] = []
    for kind in _KINDS:
        for found in FIGURE[kind].finditer(sentence):
            lo, hi = found.span()
            value = found.group().rstrip(" .,")
            hi = lo + len(value)
            if any(lo < b and a < hi for a, b in taken) or not _NUMBER.search(value):
                continue
            unit = _unit(kind, value, sentence[hi:])
            if unit is None or (kind == "quantity" and _NAMED_BEFORE.search(sentence[:lo])):
                continue
            if kind == "quantity":  # the figure is the number and its magnitude; the noun its unit
                value = _COUNT.match(value).group()
                hi = lo + len(value)
            taken.append((lo, hi))
            yield FigureRecord(
                value=value,
                number=_number(value),
                unit=unit,
                measure=figure_measure(sentence, lo, hi),
                subject=figure_subject(sentence, lo, hi),
                place=place,
                period=period,
                sentence=sentence,
                doc_id=article.doc_id,
                title=article.title or article.doc_id,
                publisher=article.publisher,
                published=article.published,
                start=start + lo,
                end=start + hi,
            )


def _unit(kind: str, value: str, after: str) -> str | None:
    """The unit of a figure of `kind` (`after` is the text that follows it); None when it is no
    figure: a year, or a number that is part of a name ("618 E-commerce Festival")."""
    if kind == "percentage":
        return "percentage points" if "point" in value.lower() else "percent"
    if kind == "money":
        return next((code for code, sign in CURRENCIES if sign.search(value)), "money")
    number = _NUMBER.search(value)
    if number is None or _YEAR_ONLY.match(number.group()):
        return None
    words = _WORD.findall(value[number.end() :] + " " + after)
    noun = []
    for word in words[:3]:
        lower = word.lower()
        verb = noun and lower.endswith(("ed", "ing"))  # "… enterprises achieved"
        if word[0].isupper() or lower in _PHRASE_END or verb:
            break
        if lower not in _MAGNITUDES:
            noun.append(lower)
    if words and words[0][0].isupper():
        return None  # a number in a name
    return noun[-1] if noun else "count"


def _number(value: str) -> float:
    found = _NUMBER.search(value)
    number = float(found.group().replace(",", "")) if found else 0.0
    for word in _WORD.findall(value[found.end() :] if found else ""):
        number *= _MAGNITUDES.get(word.lower(), 1.0)
    return number


def _place(sentence: str, titled: frozenset[str]) -> str:
    """The first name in the sentence whose tokens the title's `titled` holds ("Xinjiang"),
    else ""."""
    for match in _NAME.finditer(sentence):
        name = re.sub(r"[’']s$", "", match.group())
        if match.start() and set(tokenize(name)) <= titled and tokenize(name):
            return name
    return ""
