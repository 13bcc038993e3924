"""Question analysis: the expected answer type and the key entities and figures of a question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .figures import YEAR
from .text import tokenize
from .timeref import find_period

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "percentage",
        re.compile(
            r"\b(percent(age)?|share|proportion|rate|ratio)\b|%|\bhow much\b.*\b(grow|grew|growth|increase|rise|rose|surge|jump|decline|drop|fall|fell|up|down)"
            # "online sales growth in Xinjiang?", "what was the growth of exports?"
            r"|^(?:what (?:was|is|were) (?:the )?|(?!(?:why|how|who|when|where|which|what)\b))[\w'’ -]*\bgrowth\b",
            re.I,
        ),
    ),
    (
        "money",
        re.compile(
            r"\bhow much\b.*\b(cost|worth|pay|paid|spend|spent|earn|sales|revenue|value|price|yuan|dollars?)\b|\b(how much money|what (was|is) the (value|price|cost|revenue))\b",
            re.I,
        ),
    ),
    (
        "quantity",
        re.compile(
            r"\bhow (many|much|long|far|big|large|old|fast|often)\b|\bwhat (number|amount|size|population)\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"^(when)\b|\b(what (year|date|day|month|time|century|decade|period)|which (year|date|day|month|century|decade)|since when|in what year|how long ago)\b",
            re.I,
        ),
    ),
    (
        "place",
        re.compile(
            r"^where\b|\b(what|which|in what) (city|cities|country|countries|province|region|district|county|place|state|area|continent|location|park|town|village)\b",
            re.I,
        ),
    ),
    (
        "agent",
        re.compile(
            r"\bwho(m|se)?\b|\b(what|which) (company|companies|firm|organization|organisation|group|platform|person|brand|agency|department|team|university|newspaper|game)\b",
            re.I,
        ),
    ),
    (
        "list",
        re.compile(
            r"\b(what|which) (products|goods|items|sectors|categories|industries|commodities|countries|cities|advantages|forces|tools)\b|\bname (some|the)\b|\blist\b",
            re.I,
        ),
    ),
    (
        "reason",
        re.compile(
            r"^why\b|\bwhat (caused|drove|led to|fuel(l?ed)?|prompted)\b|\bfor what reason\b", re.I
        ),
    ),
)
ANSWER_TYPES = tuple(name for name, _ in _RULES) + ("other",)
QUESTION_WORD = re.compile(r"\b(what|which|who|whom|whose|when|where|why|how)\b", re.I)
_YEAR = re.compile(rf"\b({YEAR})s?\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALIZED = re.compile(r"\b[A-Z][\w’'&-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'&-]*)*")
# "How many products ...", "What dual titles ...", "What is the population of ...": the words
# naming what is asked for, which the answer sentence tends to repeat next to the answer.
_FOCUS = re.compile(
    r"\b(?:how (?:many|much)|what|which|whose)\s+(?:(?:is|are|was|were)\s+(?:the\s+)?)?"
    r"([^\W\d_][\w’'-]*)(?:\s+([^\W\d_][\w’'-]*))?",
    re.I,
)
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how is are was were do does did can could "
    "the a an in on of for by to and or if".split()
)

_NOT_FOCUS = _QUESTION_WORDS | frozenset(
    "has have had will would should shall may might must kind type sort".split()
)


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks for and which of its words must be matched by the answer."""

    text: str
    answer_type: str  # a name of _RULES (percentage, money, quantity, date, ...) or "other"
    entities: tuple[str, ...]  # capitalized names and phrases, e.g. "Xinjiang", "Zigui County"
    years: tuple[str, ...]
    numbers: tuple[str, ...]  # figures other than years
    terms: tuple[str, ...]  # content tokens, as `tokenize` makes them
    focus: tuple[str, ...] = ()  # tokens of what is asked for: "products" in "How many products"
    period: str = ""  # the period the question names, resolved: "H1 2024"
    period_terms: tuple[str, ...] = ()  # tokens of the words naming it: "first six months of 2024"

    @property
    def entity_tokens(self) -> tuple[str, ...]:
        """Tokens of the named entities, for matching against sentences."""
        return tuple(dict.fromkeys(t for e in self.entities for t in tokenize(e)))


def analyze(question: str) -> QuestionAnalysis:
    """Classify the expected answer type and pull out the key entities and figures."""
    # Classify from the question word on: "What disorders occur when ..." is not a date question.
    wh = QUESTION_WORD.search(question)
    asked = question[wh.start() :] if wh else question
    answer_type = next((name for name, rule in _RULES if rule.search(asked)), "other")
    entities = []
    for match in _CAPITALIZED.finditer(question):
        words = [w for w in match.group().split() if w.lower() not in _QUESTION_WORDS]
        if words:
            entities.append(" ".join(words))
    years = tuple(dict.fromkeys(m.group(1) for m in _YEAR.finditer(question)))
    numbers = tuple(dict.fromkeys(n for n in _NUMBER.findall(question) if n not in years))
    focus = _FOCUS.search(asked)
    # Explicit periods only: a question has no publication date to resolve "this year" against.
    period, period_words = find_period(question, "")
    focus_words = []
    if focus and focus.group(1).lower() not in _NOT_FOCUS:  # "How much did ..." names nothing
        focus_words = [w for w in focus.groups() if w and w.lower() not in _NOT_FOCUS]
    return QuestionAnalysis(
        text=question,
        answer_type=answer_type,
        entities=tuple(dict.fromkeys(entities)),
        years=years,
        numbers=numbers,
        terms=tuple(dict.fromkeys(tokenize(question))),
        focus=tuple(dict.fromkeys(t for w in focus_words for t in tokenize(w))),
        period=period,
        period_terms=tuple(dict.fromkeys(tokenize(period_words))),
    )
