"""Slot matching: what a question asks (`AskedSlots`) against the figures a sentence states."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..ingest.text import tokenize
from .figures import CURRENCIES, YEAR, asked_currencies
from .question import QuestionAnalysis
from .table import SentenceFigure, period_months, sentence_figures

_SPELLED = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a|an"
_TIME_UNIT = r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?"
# Durations, in figures or words: "as little as 30 minutes", "a two-month festival", "24/7".
_DURATION = re.compile(
    rf"\b(?:\d+(?:\.\d+)?|{_SPELLED})(?:[- ](?:consecutive|straight|full))?[- ](?:{_TIME_UNIT})\b"
    r"|\b24/7\b|\baround the clock\b|\byear-round\b|\ball year round\b",
    re.I,
)
_SPELLED_NUMBER = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty"
    r"|ninety|hundred|thousand|million|billion|dozens?|hundreds|thousands|millions|several|a few"
    r"|a dozen"
)
# Counts written in words ("Four thousand emigrated", "two piston strokes", "ten-horsepower")
# and fractions ("one-fifth of the population", "half as much"), which the table leaves out.
_SPELLED_COUNT = re.compile(
    rf"\b(?:{_SPELLED_NUMBER})(?:[- ](?:{_SPELLED_NUMBER}))*(?:-[a-z]+)?\b", re.I
)
_FRACTION = re.compile(
    r"\b(?:(?:one|two|three|four|a)[- ](?:half|third|quarter|fourth|fifth|sixth|seventh|eighth|"
    r"ninth|tenth)s?|half|halves|quarters?)\b(?!-)",
    re.I,
)
# Any other number is a count the table leaves out ("500,000 Huguenots", "150 Nobel laureates":
# it keeps no count of a capitalized noun); a bare year is none.
_OTHER_NUMBER = re.compile(
    rf"(?<![\w.,/-])(?!(?:{YEAR})\b)\d[\d,]*(?:\.\d+)?(?:\s(?:thousand|million|billion))?(?![\w/%])"
)
_HYPHENED = re.compile(r"-[a-z]+(?:-[a-z]+)*\b")
_AREA = re.compile(r"square|hectare|acre|\bmu\b|kilomet|\bkm\b|\bmeters?\b|\bmetres?\b", re.I)
_PRICE_WORDS = re.compile(r"\b(?:price[ds]?|cost[s]?|priced|per|each|apiece|a piece)\b", re.I)
# Words that name the measure, not what it is of: "What price ...", "the floor area of ...".
_MEASURE_WORDS = frozenset(
    tokenize("price prices priced cost costs size area floor space value worth share proportion "
             "percentage percent rate number amount")
)  # fmt: skip
# A clause's bounds; an aside in brackets ("(about 7.53 billion USD)") belongs to its clause.
_CLAUSE = re.compile(r"[,;:—]")
_NUMBERS = re.compile(r"\d+(?:[.,]\d+)*")
# What a stated figure is, by its unit: the kinds the asked measures accept.
_KIND_OF_UNIT = {"percent": "percent", "percentage points": "points", "times": "times"}
_CURRENCY_WORDS = frozenset(tokenize("us dollars dollar usd yuan rmb euros euro converted"))
_CURRENCY_UNITS = frozenset({"USD", "CNY", "EUR", "GBP", "money"})
# Which kinds of stated figure can answer each asked measure (`AskedSlots.measure`). A growth
# rate is a growth whatever its unit; a share or a rate is a percentage that is not a growth.
_ACCEPTS = {
    "growth": lambda f: f.measure == "growth",
    "share": lambda f: f.kind in ("percent", "fraction", "money") and f.measure != "growth",
    "rate": lambda f: f.kind in ("percent", "fraction") and f.measure != "growth",
    "amount": lambda f: f.kind == "money",
    "price": lambda f: f.kind == "money",
    "count": lambda f: f.kind in ("count", "size", "times"),
    "size": lambda f: f.kind in ("money", "count", "size", "percent") and f.measure != "growth",
    "duration": lambda f: f.kind == "duration",
}
# Among the figures an asked measure accepts, the kinds it prefers, best first: "how big was
# the market" is answered by its 15.5 trillion yuan before its 33% share of the world's.
_PREFERS = {
    "growth": ("percent", "times", "points"),
    "share": ("percent", "fraction", "money"),
    "size": ("size", "money", "count", "percent"),
    "count": ("count", "size"),
}
# A figure near none of the question's words keeps SHARE_FLOOR: it may say the same in other
# words ("individuals" for "people", "shops" for "stores").
SHARE_FLOOR = 0.2
# A subject word found only in the sentence's context (its neighbours, its title) counts for
# this share of one found in the figure's own clause: "imports and exports through this
# channel" after a sentence that names cross-border e-commerce.
CONTEXT_CREDIT = 0.5
# A place the question names that the sentence's context never names leaves this share, and so
# does a period of the sentence that lies outside the one asked ("H1 2024" for "in 2019").
PLACE_MISSING = 0.25
PERIOD_MISMATCH = 0.25
# A part ("online retail sales of agricultural products") asked as the whole ("total online
# retail sales") keeps this share of its match.
PART_FOR_TOTAL = 0.25


@dataclass(frozen=True)
class Stated:
    """A figure a sentence states, with what it is: `kind` is "percent", "points", "money",
    "times", "count", "size", "duration" or "fraction"; offsets are the sentence's."""

    start: int
    end: int
    value: str
    kind: str
    measure: str  # "growth", "share", "amount", "level" (`figures.figure_measure`)
    subject: str  # what it is a figure of, "" when unnamed


@dataclass(frozen=True)
class SlotMatch:
    """How well one sentence states what a question asks.

    `applies` is False for questions whose answer is no figure (names, places, reasons): then
    nothing is held against the sentence. Otherwise `figure` is its best figure of an asked
    kind (None: it states none, `asked_measure_missing`), `score` in [0, 1] how well that
    figure's subject, place and scope match the question's, and `accepted` all its figures of
    an asked kind.
    """

    applies: bool
    figure: Stated | None = None
    score: float = 1.0
    accepted: tuple[Stated, ...] = ()  # every figure of the sentence of an asked kind

    @property
    def missing(self) -> bool:
        """The sentence states no figure of the asked measure."""
        return self.applies and self.figure is None


NOT_APPLICABLE = SlotMatch(False)


@lru_cache(maxsize=4096)
def stated(sentence: str) -> tuple[Stated, ...]:
    """The figures of `sentence` as the figures table reads them, its durations (which take
    the place of a count they overlap), and its counts and fractions written in words."""
    figures = [_joined(sentence, _stated(f)) for f in sentence_figures(sentence)]
    for found in _DURATION.finditer(sentence):
        lo, hi = found.span()
        figures = [f for f in figures if not (f.start < hi and lo < f.end)]
        figures.append(Stated(lo, hi, found.group(), "duration", "level", ""))
    for pattern, kind in (
        (_FRACTION, "fraction"),
        (_SPELLED_COUNT, "count"),
        (_OTHER_NUMBER, "count"),
    ):
        for found in pattern.finditer(sentence):
            lo, hi = found.span()
            if not any(f.start < hi and lo < f.end for f in figures):
                figures.append(Stated(lo, hi, found.group(), kind, "level", ""))
    return tuple(sorted(figures, key=lambda f: f.start))


def _joined(sentence: str, figure: Stated) -> Stated:
    """A count with the unit joined to it by a hyphen, as written: "60,000-square-meter"."""
    unit = _HYPHENED.match(sentence, figure.end)
    if figure.kind not in ("count", "size") or unit is None:
        return figure
    value = sentence[figure.start : unit.end()]
    return Stated(figure.start, unit.end(), value, figure.kind, figure.measure, figure.subject)


def _stated(figure: SentenceFigure) -> Stated:
    unit = figure.unit
    if unit in _CURRENCY_UNITS:
        kind = "money"
    elif unit in _KIND_OF_UNIT:
        kind = _KIND_OF_UNIT[unit]
    else:
        kind = "size" if _AREA.search(unit) else "count"
    return Stated(figure.start, figure.end, figure.value, kind, figure.measure, figure.subject)


def match(
    analysis: QuestionAnalysis,
    sentence: str,
    weights: Mapping[str, float],
    context: frozenset[str] = frozenset(),
    period: str = "",
) -> SlotMatch:
    """How well `sentence` states what `analysis` asks; `weights` are the index's idf of the
    question's terms (a rare shared word counts for more than "sales"), `context` the tokens
    of the sentence's neighbours and title (`Candidate.context_tokens`), `period` the one the
    sentence speaks of (`timeref.resolve_period`)."""
    slots = analysis.slots
    if not slots.wants_figure:
        return NOT_APPLICABLE
    given = set(analysis.numbers + analysis.years)
    accepts = _ACCEPTS[slots.measure]
    figures = [
        f
        for f in stated(sentence)
        if accepts(f) and not given.intersection(_NUMBERS.findall(f.value))
        and (slots.measure != "price" or _priced(sentence, f))
    ]  # fmt: skip
    if not figures:
        return SlotMatch(True)
    # Percentage points answer only a question that asks for points; an amount in another
    # currency than the one asked for only where none is in that one.
    if "point" not in analysis.terms:
        figures = [f for f in figures if f.kind != "points"]
    if currencies := asked_currencies(analysis.terms):
        signs = [sign for code, sign in CURRENCIES if code in currencies]
        figures = [
            f for f in figures if f.kind != "money" or any(s.search(f.value) for s in signs)
        ] or figures
    if not figures:
        return SlotMatch(True)
    prefers = _PREFERS.get(slots.measure, ())
    kinds = [f.kind for f in figures]
    first = next((k for k in prefers if k in kinds), None)
    if first is not None:
        figures = [f for f in figures if f.kind == first]
    scored = [(subject_match(analysis, sentence, f, weights, context), f) for f in figures]
    # Ties go to the figure nearest the question's words, as `figures.answer_span` chooses.
    best, figure = max(scored, key=lambda pair: (pair[0], -_distance(sentence, pair[1], analysis)))
    place = _words(slots.place)
    if place and context and not place <= context | _words(sentence):
        best *= PLACE_MISSING
    if not _overlap(slots.period, period):
        best *= PERIOD_MISMATCH
    return SlotMatch(True, figure, round(best, 4), tuple(figures))


def _overlap(asked: str, said: str) -> bool:
    """Whether two periods can be the same: either unknown, or their months overlap."""
    a, b = period_months(asked), period_months(said)
    return a is None or b is None or (a[0] <= b[1] and b[0] <= a[1])


def subject_match(
    analysis: QuestionAnalysis,
    sentence: str,
    figure: Stated,
    weights: Mapping[str, float],
    context: frozenset[str] = frozenset(),
) -> float:
    """How well `figure` is of what the question asks it of, in [0, 1].

    The idf-weighted share of the question's words found in the figure's own subject or
    clause (CONTEXT_CREDIT of a word for one found only in the rest of the sentence or its
    `context`), the subject's words counting twice as much as the question's other words, and
    the place, period and measure words left out: a figure of no rare word of the question
    (the "smartphone" of "smartphone sales", the "sales" that "sessions" are not) matches
    little. A part of what the question asks as a whole keeps PART_FOR_TOTAL of it."""
    slots = analysis.slots
    left_out = _words(slots.place) | set(analysis.period_terms) | _MEASURE_WORDS
    left_out |= _CURRENCY_WORDS  # the currency asked is held to by `match`
    subject = [t for t in dict.fromkeys(tokenize(slots.subject)) if t not in left_out]
    others = [t for t in analysis.terms if t not in left_out and t not in subject]
    weight = {t: max(weights.get(t, 1.0), 0.05) for t in subject}
    weight.update({t: 0.5 * max(weights.get(t, 1.0), 0.05) for t in others})
    own = _words(figure.subject)
    near = own | _words(_clause(sentence, figure))
    around = context | _words(sentence)
    found = sum(
        w * (1.0 if t in near else CONTEXT_CREDIT * (t in around)) for t, w in weight.items()
    )
    share = found / sum(weight.values()) if weight else 1.0
    score = SHARE_FLOOR + (1 - SHARE_FLOOR) * share
    if slots.scope == "total" and _is_part(own, subject, figure.subject):
        score *= PART_FOR_TOTAL
    return score


_WHOLE_WORDS = frozenset(tokenize("online retail sales total"))  # words the whole goes by


@lru_cache(maxsize=2**14)
def _words(text: str) -> frozenset[str]:
    """`tokenize(text)` as a set, remembered: the same sentences meet every question."""
    return frozenset(tokenize(text))


def _is_part(own: set[str], asked: Sequence[str], subject: str) -> bool:
    """Whether a figure's subject names a part beyond what was asked: "online retail sales
    of agricultural products" for "total online retail sales"."""
    if re.search(r"\b(?:total|overall)\b", subject, re.I):
        return False
    return bool(own - set(asked) - _WHOLE_WORDS)


def _priced(sentence: str, figure: Stated) -> bool:
    """Whether an amount of money is a price: a price word in its clause ("priced at 20 yuan",
    "30 yuan per kilogram")."""
    return bool(_PRICE_WORDS.search(_clause(sentence, figure)))


def _clause(sentence: str, figure: Stated) -> str:
    """The clause of `sentence` that holds the figure."""
    cuts = [0, *(m.end() for m in _CLAUSE.finditer(sentence)), len(sentence) + 1]
    lo = max(c for c in cuts if c <= figure.start)
    hi = min(c for c in cuts if c > figure.end - 1) - 1
    return sentence[lo:hi]


def _distance(sentence: str, figure: Stated, analysis: QuestionAnalysis) -> int:
    terms = set(analysis.terms)
    positions = [m.start() for m in re.finditer(r"[\w’'-]+", sentence) if _words(m.group()) & terms]
    if not positions:
        return figure.start
    return min(min(abs(p - figure.start), abs(p - figure.end)) for p in positions)
