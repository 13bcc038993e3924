"""The figures table: every figure of a corpus with what it measures, of what, where and when."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import SettingsError
from ..index.annotations import Annotation
from ..ingest.text import split_sentences, tokenize
from ..types import Article
from .figures import (
    CURRENCIES,
    FIGURE,
    MONTH,
    MONTHS,
    PERCENT_UNITS,
    YEAR,
    figure_measure,
    figure_subject,
)
from .timeref import resolve_period

# Small figures news writes in words: "nearly one percentage point", "five times faster".
_SPELLED = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve")  # fmt: skip
_SPELLED_WORD = "|".join(_SPELLED)
# A multiple of something ("five times faster", "3-fold") and a rate word ("a doubling of sales").
_MULTIPLIED = {"doubl": 2.0, "tripl": 3.0, "quadrupl": 4.0}
_PATTERNS = {
    "percentage": FIGURE["percentage"],
    "spelled percentage": re.compile(rf"\b(?:{_SPELLED_WORD})\s(?:{PERCENT_UNITS})", re.I),
    "money": FIGURE["money"],
    "multiple": re.compile(rf"\b(?:\d+(?:\.\d+)?|{_SPELLED_WORD})(?=[- ](?:times|fold)\b)", re.I),
    # Lower case, and not "double-digit": "Double 11" is a name.
    "rate word": re.compile(rf"\b(?:{'|'.join(_MULTIPLIED)})(?:ed|es|ing|e)\b(?!-)"),
    "quantity": FIGURE["quantity"],
}
# Kinds in the order they claim a stretch of text: "53.42 billion yuan" is money, not a count of
# 53.42 billion; "12.9%" a percentage; "5 times" a multiple, not a count of times.
_KINDS = tuple(_PATTERNS)
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
# A number right after a name, a month or "top" is part of a name or a rank: "Double 11",
# "link 1", "June 13", "the top 100 cities".
_NAMED_BEFORE = re.compile(r"(?:\b[A-Z][\w.]*|\blink|\bNo\.|\btop)\s$")
# A number glued to letters or a slash is an ordinal, a code or a time: "5th", "H1", "24/7".
_GLUED_BEFORE = re.compile(r"[A-Za-z/]$")
_GLUED_AFTER = re.compile(r"^[A-Za-z/]")
# A size joined to its unit by a hyphen: "a 60,000-square-meter commercial space".
_SIZE = re.compile(r"^-([a-z]+(?:-[a-z]+)*)\b")
# Words that end the noun phrase a count counts: "419 key trade enterprises achieved ..."
_PHRASE_END = frozenset(
    "of in on at to for from by with and or but that which who were was is are have has had "
    "across during since than as within into both over under after before per about through "
    "via each".split()
)
# Where a count's noun phrase stops, at the latest.
_PHRASE_STOP = re.compile(r"[,.;:!?()—–\"“”]")
# Sentences about the whole world name no place, and borrow none: "global retail e-commerce
# sales reached $6.3 trillion".
_WORLD = re.compile(r"\b(?:global|worldwide|world[’']s|the world)\b", re.I)
# A year the figure is compared with is not its period: "an increment of 1.7 percentage points
# from last year", "up 8.8% from the year before".
_BASELINE = re.compile(
    rf"\b(?:from|than|over|compared (?:to|with)|against)\s+(?:the (?:same|corresponding) period "
    rf"(?:of |in )?)?(?:last year|a year (?:earlier|ago|before)|the (?:previous|prior) year"
    rf"|the year before|{YEAR})\b",
    re.I,
)
# The edition of a named event: "The 2025 Chongqing 618 E-commerce Festival saw ...".
_EDITION = re.compile(rf"\b(?:[Tt]he|[Tt]his|[Ii]ts)\s+({YEAR})\s+(?=[A-Z])")
# A month of a year: "By June 2025, China had formed ...".
_MONTH_YEAR = re.compile(rf"\b({MONTH}),?\s+({YEAR})\b")


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
    """Every figure of `articles`, in reading order: percentages, amounts of money, counts and
    multiples (a bare year or a date is no figure)."""
    return [record for article in articles for record in article_records(article)]


# Changed whenever the table reads figures differently: tables stored by another version are
# computed again (`rag.index.annotations`).
TABLE_VERSION = "2"


def article_rows(article: Article) -> list[list[Any]]:
    """An article's figures as the index stores them: each record's fields but its source's,
    which the article gives, and with its sentence's offsets instead of its text."""
    rows = []
    for r in article_records(article):
        # The sentence around the figure: its last occurrence that starts before the figure.
        first = article.text.rfind(r.sentence, 0, r.start + len(r.sentence))
        rows.append([r.value, r.number, r.unit, r.measure, r.subject, r.place, r.period,
                     r.start, r.end, first, first + len(r.sentence)])  # fmt: skip
    return rows


def stored_records(articles: Sequence[Article], rows: Sequence[Any]) -> list[FigureRecord]:
    """The records of `article_rows`, one list of rows per article of `articles`."""
    return [
        FigureRecord(
            value,
            number,
            unit,
            measure,
            subject,
            place,
            period,
            article.text[a:b],
            article.doc_id,
            article.title or article.doc_id,
            article.publisher,
            article.published,
            start,
            end,
        )  # fmt: skip
        for article, stored in zip(articles, rows, strict=True)
        for value, number, unit, measure, subject, place, period, start, end, a, b in stored
    ]


# The figures table, stored with each index generation and computed only for new articles.
FIGURES = Annotation("figures", TABLE_VERSION, article_rows)


def article_records(article: Article) -> list[FigureRecord]:
    """Every figure of one article, in reading order.

    A sentence that names no place speaks of the place the article last named ("Online sales
    grew by 20%" after "Yichang's 419 key trade enterprises ..."), unless it speaks of the whole
    world; one that names no period, of the period named last in its paragraph ("during this
    period"): news carries its place through an article, and its period through a paragraph.
    """
    names = _title_names(article)
    out: list[FigureRecord] = []
    place = period = ""
    previous_end = 0
    for start, end in split_sentences(article.text):
        sentence = article.text[start:end]
        if "\n" in article.text[previous_end:start]:
            period = ""  # a new paragraph
        previous_end = end
        named = _place(sentence, names)
        place = named or place
        period = _period(sentence, article.published) or period
        where = named or ("" if _WORLD.search(sentence) else place)
        out.extend(_records(article, start, end, where, period))
    return out


def select(
    records: Sequence[FigureRecord],
    *,
    measure: str | None = None,
    about: str | None = None,
    place: str | None = None,
    article: str | None = None,
    period: str | None = None,
    articles: Collection[str] | None = None,
) -> list[FigureRecord]:
    """The records of one `measure`, of what `about` names (`_about`), of one `place` and one
    `article`, whose period lies within `period` (a year, a month, or a period as the table
    writes it: "2024", "2024-05", "H1 2024", "Q3 2024", "2024-01/2024-05"; a figure of no
    period is left out), of the `articles` named (doc_ids); None leaves a field open. A period
    that is none of these is a SettingsError."""
    within = None if period is None else period_months(period)
    if period is not None and within is None:
        raise SettingsError(
            f"period must be a year, a month or a period as the table writes it (2024, 2024-05, "
            f"H1 2024, Q3 2024, 2024-01/2024-05); got {period!r}"
        )
    wanted = tokenize(about) if about else []
    return [
        r
        for r in records
        if (measure is None or r.measure == measure)
        and (not about or _about(wanted, r.subject))
        and (place is None or r.place.lower() == place.lower())
        and (article is None or r.doc_id == article)
        and (within is None or _within(period_months(r.period), within))
        and (articles is None or r.doc_id in articles)
    ]


def period_months(period: str) -> tuple[int, int] | None:
    """A period as the table writes it, as its first and last month counted from year 0
    ("H1 2024" -> (24288, 24293)); None when it is none."""
    text = period.strip()
    if match := re.fullmatch(r"([HQ])([1-4]) (\d{4})", text):
        size = 6 if match[1] == "H" else 3
        year, last = int(match[3]), size * int(match[2])
        return _months(year, last - size + 1, year, last)
    if match := re.fullmatch(r"(\d{4})-(\d{2})/(\d{4})-(\d{2})", text):
        return _months(*(int(group) for group in match.groups()))
    if match := re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-\d{2})?)?", text):
        year = int(match[1])
        return _months(year, int(match[2] or 1), year, int(match[2] or 12))
    return None


def _months(first_year: int, first: int, last_year: int, last: int) -> tuple[int, int] | None:
    if not (1 <= first <= 12 and 1 <= last <= 12):
        return None  # "H3 2024", "2024-13"
    return first_year * 12 + first - 1, last_year * 12 + last - 1


def _within(inner: tuple[int, int] | None, outer: tuple[int, int]) -> bool:
    return inner is not None and outer[0] <= inner[0] and inner[1] <= outer[1]


def _about(wanted: Sequence[str], subject: str) -> bool:
    """Whether `subject` is a figure of what the words `wanted` name: their head word ("sales")
    and, when they are more, another of them ("online sales" for "online retail sales")."""
    words = _words(subject)
    if not wanted or wanted[-1] not in words:
        return False
    return len(wanted) == 1 or len(words.intersection(wanted)) >= 2


@lru_cache(maxsize=2**16)
def _words(subject: str) -> frozenset[str]:
    """A subject's words, tokenized once: a filter reads every subject of the table."""
    return frozenset(tokenize(subject))


def _records(
    article: Article, start: int, end: int, place: str, period: str
) -> Iterator[FigureRecord]:
    for figure in sentence_figures(article.text[start:end]):
        yield FigureRecord(
            value=figure.value,
            number=figure.number,
            unit=figure.unit,
            measure=figure.measure,
            subject=figure.subject,
            place=place,
            period=period,
            sentence=article.text[start:end],
            doc_id=article.doc_id,
            title=article.title or article.doc_id,
            publisher=article.publisher,
            published=article.published,
            start=start + figure.start,
            end=start + figure.end,
        )


@dataclass(frozen=True)
class SentenceFigure:
    """A figure as one sentence states it: `sentence[start:end] == value`; the other fields
    as `FigureRecord` has them."""

    start: int
    end: int
    value: str
    number: float
    unit: str
    measure: str
    subject: str


@lru_cache(maxsize=4096)
def sentence_figures(sentence: str) -> tuple[SentenceFigure, ...]:
    """Every figure of one sentence, in the order the kinds claim their text (cached: the
    composer asks again for the sentences that every question about a story finds)."""
    out: list[SentenceFigure] = []
    taken: list[tuple[int, int]] = []
    for kind in _KINDS:
        for found in _PATTERNS[kind].finditer(sentence):
            lo, hi = found.span()
            value = found.group().rstrip(" .,")
            hi = lo + len(value)
            if any(lo < b and a < hi for a, b in taken):
                continue
            phrase = ""
            if kind == "quantity":
                counted = _counted(sentence, lo, value)
                if counted is None:
                    continue
                value, unit, phrase = counted
                hi = lo + len(value)
            else:
                unit = _unit(kind, value)
            taken.append((lo, hi))
            out.append(
                SentenceFigure(
                    start=lo,
                    end=hi,
                    value=value,
                    number=_number(value),
                    unit=unit,
                    # A doubling is growth whatever words stand around it.
                    measure="growth" if kind == "rate word" else figure_measure(sentence, lo, hi),
                    # A count is a figure of what it counts: "700 brands", "65 direct sourcing
                    # bases".
                    subject=phrase or figure_subject(sentence, lo, hi),
                )
            )
    return tuple(out)


def _unit(kind: str, value: str) -> str:
    """The unit of a figure of `kind` other than a count."""
    if kind in ("percentage", "spelled percentage"):
        return "percentage points" if "point" in value.lower() else "percent"
    if kind == "money":
        return next((code for code, sign in CURRENCIES if sign.search(value)), "money")
    return "times"  # a multiple or a rate word


def _counted(sentence: str, lo: int, value: str) -> tuple[str, str, str] | None:
    """(value, unit, counted phrase) of the count found as `value` at `sentence[lo:]`: the number
    and its magnitude, the last word of the noun phrase after it ("700 brands") or the unit
    joined to it ("60,000-square-meter"). None when it is no figure: a year, a rank, an ordinal,
    or a number that is part of a name ("618 E-commerce Festival")."""
    count = _COUNT.match(value).group()
    before = sentence[:lo]
    if _YEAR_ONLY.match(count) or _NAMED_BEFORE.search(before) or _GLUED_BEFORE.search(before):
        return None
    rest = sentence[lo + len(count) :]
    if _GLUED_AFTER.match(rest):
        return None
    size = _SIZE.match(rest)
    rest = rest[size.end() :] if size else rest
    if stop := _PHRASE_STOP.search(rest):
        rest = rest[: stop.start()]
    words = _WORD.findall(rest)
    if words and words[0][0].isupper() and not size:
        return None
    noun: list[str] = []
    for word in words[:3]:
        lower = word.lower()
        verb = noun and lower.endswith("ed")  # "… enterprises achieved"
        if word[0].isupper() or lower in _PHRASE_END or verb:
            break
        noun.append(lower)
    while noun and noun[-1].endswith("ing"):  # "500 million individuals tuning into …"
        noun.pop()
    if size:
        return count, size[1].replace("-", " "), " ".join(noun)
    return count, noun[-1] if noun else "count", " ".join(noun)


def _number(value: str) -> float:
    found = _NUMBER.search(value)
    if found is None:  # "one percentage point", "five", "doubling"
        first = value.split()[0].lower()
        if first in _SPELLED:
            return float(_SPELLED.index(first) + 1)
        return next(n for stem, n in _MULTIPLIED.items() if first.startswith(stem))
    number = float(found.group().replace(",", ""))
    for word in _WORD.findall(value[found.end() :]):
        number *= _MAGNITUDES.get(word.lower(), 1.0)
    return number


def _title_names(article: Article) -> frozenset[str]:
    """The names in the article's title: its capitalized words that the article never writes
    in lower case ("Xinjiang", "Chongqing"; not "Online", "Global" or "Commerce")."""
    lower = set(re.findall(r"\b[a-z]+\b", article.text))
    names = {_bare(m.group()) for m in _NAME.finditer(article.title)}
    return frozenset(name for name in names if name.lower() not in lower)


def _bare(name: str) -> str:
    return re.sub(r"[’']s$", "", name)


def _place(sentence: str, names: frozenset[str]) -> str:
    """The first of the title's `names` the sentence names ("Xinjiang"), else ""."""
    named = (_bare(match.group()) for match in _NAME.finditer(sentence))
    return next((name for name in named if name in names), "")


def _period(sentence: str, published: str) -> str:
    """The period the sentence names (`resolve_period`, the year it compares with left out),
    the year of the event it names, or the month; "" when none.

    The last two are the table's own: an answer's period stays as `resolve_period` reads it.
    """
    text = _BASELINE.sub(" ", sentence)
    if period := resolve_period(text, published):
        return period
    if edition := _EDITION.search(text):
        return edition[1]
    if month := _MONTH_YEAR.search(text):
        return f"{month[2]}-{MONTHS.index(month[1]) + 1:02d}"
    return ""
