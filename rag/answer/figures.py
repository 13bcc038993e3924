"""Figures, units and dates: one table that question analysis, the composer and the UI share."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..ingest.text import tokenize

T = TypeVar("T")

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTH = "|".join(MONTHS)  # full names; match with re.I where case may vary
YEAR = r"(?:1[5-9]|20)\d\d"  # a four-digit year from 1500 to 2099
CURRENCY_SYMBOLS = "$¥€£"
CURRENCY_WORDS = r"yuan|dollars?|US dollars|USD|RMB|euros?|pounds?"
MONEY_MAGNITUDES = r"million|billion|trillion|bn|m"
PERCENT_UNITS = r"%|percent\b|per cent\b|percentage points?\b"

# Whether a sentence holds something of an answer type at all (a feature of the scorer).
_PRESENT = {
    "percentage": re.compile(
        rf"\d\s?(?:{PERCENT_UNITS})|\b(doubl|tripl|halv)\w*|\b\d+(\.\d+)?[- ]fold\b", re.I
    ),
    "money": re.compile(
        rf"[{CURRENCY_SYMBOLS}]\s?\d"
        rf"|\b\d[\d.,]*\s*(?:{MONEY_MAGNITUDES})?\s*(?:{CURRENCY_WORDS})\b",
        re.I,
    ),
    "quantity": re.compile(
        r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?"
        r"|thousands?|millions?|billions?)\b",
        re.I,
    ),
    "date": re.compile(
        rf"\b{YEAR}s?\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|{MONTH})\b"
        r"|\b(century|decade|yesterday|today|last year|this year|next year|spring|summer|autumn"
        r"|fall|winter)\b",
        re.I,
    ),
    "place": re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+"),
    "agent": re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+|\b[A-Z]{2,}\b"),
    "list": re.compile(r",.*\b(and|or)\b|(,[^,]+){2,}"),
    "reason": re.compile(
        r"\b(because|due to|thanks to|driven by|owing to|as a result|so that|in order to"
        r"|fuel(l?ed|s)? by|caused by|led to|since)\b",
        re.I,
    ),
}

# The figure itself, to mark it inside the sentence ("56 percent", "53.42 billion yuan").
FIGURE = {
    "percentage": re.compile(rf"\d+(?:\.\d+)?\s?(?:{PERCENT_UNITS})", re.I),
    "money": re.compile(
        rf"[{CURRENCY_SYMBOLS}]\s?\d[\d.,]*(?:\s(?:{MONEY_MAGNITUDES})\b)?"
        rf"|\d[\d.,]*\s(?:(?:{MONEY_MAGNITUDES})\s)?(?:{CURRENCY_WORDS})\b",
        re.I,
    ),
    "quantity": re.compile(
        r"\d[\d.,]*(?:\s(?:million|billion|trillion|thousand|hundred))?(?:[-\s][a-z]+(?:-[a-z]+)*)?",
        re.I,
    ),
    "date": re.compile(rf"\b(?:(?:{MONTH})(?:\s\d{{1,2}})?(?:,?\s\d{{4}})?|\d{{4}})\b"),
}
# Which kinds of figure answer which answer type, most specific first.
_ANSWERED_BY = {
    "percentage": ("percentage",),
    "money": ("money", "quantity"),
    "quantity": ("money", "percentage", "quantity"),
    "date": ("date",),
}

# Answer types a figure answers: the ones `answer_span` marks and the composer compares.
FIGURE_TYPES = frozenset(_ANSWERED_BY)


def has_answer_type(sentence: str, answer_type: str) -> bool:
    """Whether the sentence holds something of the expected type (a figure, a date, a name...)."""
    pattern = _PRESENT.get(answer_type)
    return True if pattern is None else bool(pattern.search(sentence))


def answer_span(
    sentence: str, answer_type: str, stated: Sequence[str], terms: Sequence[str]
) -> tuple[int, int] | None:
    """Offsets within `sentence` of the figure that answers a quantity or date question.

    Among the figures of the expected kind, the one nearest to the question's own terms wins
    ("56 percent surge in ... live-streaming" over "84 percent" further away); figures the
    question itself `stated` are never the answer; `terms` are the question's tokens.
    """
    for kind in _ANSWERED_BY.get(answer_type, ()):
        figures = [
            m for m in FIGURE[kind].finditer(sentence) if not any(n in m.group() for n in stated)
        ]
        # "In US dollars?" asks for the dollar figure of "3.5 billion yuan (about 480 million
        # US dollars)"; a growth rate in percent is no difference in percentage points.
        figures = _preferred(figures, lambda m: fits(m.group(), answer_type, terms))
        if figures:
            anchors = _term_positions(sentence, set(terms))
            best = min(figures, key=lambda m: _distance(m.start(), m.end(), anchors))
            return best.start(), best.end()
    return None


def _preferred(items: list[T], good: Callable[[T], bool]) -> list[T]:
    """The items that are `good`, or all of them when none is."""
    return [item for item in items if good(item)] or items


# Each currency's code and how a figure writes it; the table of figures reads units from it.
CURRENCIES = (
    ("USD", re.compile(r"\$|\bdollars?\b|\bUSD\b", re.I)),
    ("CNY", re.compile(r"¥|\byuan\b|\bRMB\b", re.I)),
    ("EUR", re.compile(r"€|\beuros?\b", re.I)),
    ("GBP", re.compile(r"£|\bpounds?\b", re.I)),
)
# The currency a question asks for, by the stem of the word it uses.
_ASKED_CURRENCY = {"dollar": "USD", "usd": "USD", "yuan": "CNY", "rmb": "CNY"}
_POINTS = re.compile(r"\bpoints?\b", re.I)
_RATE_WORDS = re.compile(r"\b(doubl|tripl|quadrupl|halv)\w*|\bfold\b", re.I)


def fits(text: str, answer_type: str, terms: Sequence[str]) -> bool:
    """Whether `text` is a figure of the kind a question of `answer_type` asks for, in the
    currency its `terms` name: a percentage question wants a rate ("31 percent", "doubled"),
    not an amount ("1.2 billion yuan") nor, unless it says "points", percentage points."""
    if answer_type == "percentage":
        if _RATE_WORDS.search(text):
            return True
        rate = FIGURE["percentage"].search(text)
        return bool(rate) and (not _POINTS.search(rate.group()) or "point" in terms)
    if answer_type == "money":
        if not FIGURE["money"].search(text):
            return False
        asked = asked_currencies(terms)
        return all(sign.search(text) for code, sign in CURRENCIES if code in asked)
    return True


def asked_currencies(terms: Sequence[str]) -> frozenset[str]:
    """The currency codes a question's `terms` (tokens) ask for: "USD" for "in US dollars"."""
    return frozenset(_ASKED_CURRENCY[t] for t in terms if t in _ASKED_CURRENCY)


# What a figure measures, from the words around it: "accounting for 12.5% of their total sales"
# is a share, "increased by 22 percent" a growth rate, "3.6 billion yuan" an amount.
_SHARE_BEFORE = re.compile(
    r"\b(account(?:ing|s|ed)? for|(?:a |the )?share of|made up|mak(?:e|es|ing) up"
    r"|represent(?:ing|s|ed)?|proportion of|penetration (?:rate )?of)\W*(?:\w+\W+){0,3}$",
    re.I,
)
# One word may name the whole: "33% of the world total".
_SHARE_AFTER = re.compile(
    r"^\W*of (?:the |their |its |all |China's )?(?:\w+ )?(?:total|overall|national|all)\b", re.I
)
# "up" of a phrasal verb ("set up 65 bases", "made up") is no rise.
_GROWTH = re.compile(
    r"\b(increas\w*|increment\w*|ris(?:e|es|ing)|rose|gr[eo]w\w*|growth|surg\w*|jump\w*"
    r"|climb\w*|(?<!set )(?<!sets )(?<!made )(?<!make )up|year[- ]on[- ]year|compared"
    r"|decreas\w*|declin\w*|fell|fall\w*|drop\w*|down)\b",
    re.I,
)
# A figure a change runs to or from is the level reached or left: "increased automation rates
# to 96%", "fell to 2.8 days from 3.5 days".
_LEVEL_BEFORE = re.compile(
    r"\b(?:to|from)\s+(?:about |around |nearly |almost |over |under |more than |less than )?$",
    re.I,
)
# A clause's bounds. Growth words after a figure speak of it only within its clause: in "45,000
# sessions, showing a growth rate of 67 percent" the growth is the 67 percent's.
_CLAUSE = re.compile(r"[,;:—()]")
# Growth named right after the figure, which no share word before it overrides.
_GROWTH_AFTER = re.compile(r"^\s*(?:year[- ]on[- ]year |YoY )?(?:growth|increase|rise)\b", re.I)
MEASURES = ("share", "growth", "amount", "level")
# What a question asks a figure of: "How much did sales grow?" a growth rate, "What share of
# sales was online?" a share.
_GROWTH_ASKED = re.compile(
    r"\b(gr[eo]wn?|grow(?:th|ing)?|increas\w*|rise|rose|risen|rising|jump\w*|surg\w*|expand\w*"
    r"|climb\w*|up)\b",
    re.I,
)
# Not "percentage": "What percentage of the vote …" asks for a figure read as a level as often.
_SHARE_ASKED = re.compile(r"\b(share|proportion|fraction|account(?:ed|s)? for|portion)\b", re.I)


def asked_measure(question: str) -> str:
    """The measure a question asks for ("growth", "share"), or "" when it does not say."""
    if _SHARE_ASKED.search(question):
        return "share"
    return "growth" if _GROWTH_ASKED.search(question) else ""


def figure_measure(sentence: str, start: int, end: int) -> str:
    """What the figure at `sentence[start:end]` measures: share, growth, amount or level."""
    figure, before, after = (
        sentence[start:end],
        sentence[max(0, start - 60) : start],
        sentence[end:],
    )
    if FIGURE["money"].fullmatch(figure):
        return "amount"
    if _GROWTH_AFTER.match(after):  # "representing a 12.9% year-on-year growth"
        return "growth"
    if _SHARE_BEFORE.search(before) or _SHARE_AFTER.search(after):
        return "share"
    if _LEVEL_BEFORE.search(before):
        return "level"
    clause = after[:40]
    if cut := _CLAUSE.search(clause):
        clause = clause[: cut.start()]
    if _GROWTH.search(before[-40:]) or _GROWTH.search(clause):
        return "growth"
    return "level"


def figure_value(text: str) -> str:
    """A figure's text reduced to compare values: "56 percent" and "56%" are the same."""
    return " ".join(tokenize(text, keep_stopwords=True))


def _term_positions(sentence: str, terms: set[str]) -> list[int]:
    return [
        m.start() for m in re.finditer(r"[\w’'-]+", sentence) if set(tokenize(m.group())) & terms
    ]


def _distance(start: int, end: int, anchors: Sequence[int]) -> float:
    if not anchors:
        return float(start)
    return min(min(abs(a - start), abs(a - end)) for a in anchors)


# What a figure is a figure of: the nearest phrase in its clause that ends in a word for what
# the news counts ("online retail sales", "exports"), with up to three words before it and an
# "of"/"through" tail ("online retail sales of agricultural products").
_MEASURED = (
    r"sales|exports|imports|trade|revenues?|turnover|transactions|spending|consumption|output"
    r"|volume|shipments|orders|users|visitors|viewers|viewership|market|prices|profits?"
    r"|investment|income|GDP|jobs|enterprises|sessions"
)
_SUBJECT = re.compile(
    # Up to three words before it, none a plain verb ("achieved", "witnessed") or a small word.
    rf"(?:\b(?!(?:a|an|the|of|in|and|or|by|to|with|for|its|their|this|that|from|how|much"
    rf"|many|what|which|did|does|do|is|are|was|were|has|have|had)\b)"
    rf"(?![a-z]+ed\b)[A-Za-z][\w’'-]*\s+){{0,3}}\b(?:{_MEASURED})\b"
    r"(?:\s+(?:of|through|via)\s+(?!(?:the|this|last|first|second|third)\b)[A-Za-z][\w-]*"
    r"(?:\s+(?!(?:compared|during|in|from|year|with)\b)[A-Za-z][\w-]*)?)?",
    re.I,
)
# Words that start a sentence's subject with a capital only because they start the sentence
# (a name such as "Yichang's" keeps its capital).
_COMMON_START = re.compile(
    rf"(?:online|offline|total|overall|rural|urban|retail|physical|annual|domestic|foreign"
    rf"|global|national|local|average|{_MEASURED})\b",
    re.I,
)


def figure_subject(sentence: str, start: int, end: int) -> str:
    """What the figure at `sentence[start:end]` is a figure of ("total online retail sales"),
    from its own clause, else its sentence; "" when neither names it."""
    cuts = [0, *(m.end() for m in _CLAUSE.finditer(sentence)), len(sentence) + 1]
    lo = max(c for c in cuts if c <= start)
    hi = min(c for c in cuts if c > end - 1) - 1
    for window in ((lo, hi), (0, len(sentence))):
        found = [m for m in _SUBJECT.finditer(sentence, *window) if not start <= m.start() < end]
        if found:
            best = min(found, key=lambda m: min(abs(m.end() - start), abs(m.start() - end)))
            subject = " ".join(best.group().split())
            if not sentence[: best.start()].strip() and _COMMON_START.match(subject):
                subject = subject[0].lower() + subject[1:]  # capitalized as the sentence's start
            return subject
    return ""


def question_subject(question: str) -> str:
    """What a question asks a figure of ("online retail sales" in "How much did online retail
    sales grow?"), or ""."""
    found = _SUBJECT.search(question)
    return "" if found is None else " ".join(found.group().split())


def split_subject(subject: str) -> tuple[str, str]:
    """A subject phrase and its "of"/"through" tail: ("online retail sales",
    "agricultural products") for "online retail sales of agricultural products"."""
    main, *tail = re.split(r"\s+(?:of|through|via)\s+", subject, maxsplit=1)
    return main, tail[0] if tail else ""


def subject_head(subject: str) -> str:
    """The word a subject phrase is about ("sales" in "rural online retail sales of goods")."""
    words = tokenize(split_subject(subject)[0])
    return words[-1] if words else ""
