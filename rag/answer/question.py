"""Question analysis: the expected answer type and the key entities and figures of a question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..ingest.text import tokenize
from .figures import MONTHS as _MONTHS
from .figures import YEAR, question_subject
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


# What a question asks for, as the figure or thing that answers it: the first rule that matches
# the question from its question word on wins, so the specific ones come first ("how much of"
# is a share before "how much" is an amount; "how many hours" a duration before a count).
_GROW = (
    r"gr[eo]wn?|grow(?:th|ing)?|increas\w*|rise|rose|risen|rising|jump\w*|surg\w*|expand\w*"
    r"|climb\w*|go(?:ne)? up|went up|soar\w*|decreas\w*|declin\w*|f[ae]ll|fallen|drop\w*|shr[iu]nk"
)
_TIME_UNITS = r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?"
_MEASURE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reason", re.compile(r"^why\b|\bwhat (?:caused|drove|led to|prompted)\b", re.I)),
    ("duration", re.compile(rf"\bhow long\b(?! ago)|\bhow (?:quickly|soon)\b(?![^?]*\b(?:{_GROW})\b)|\b(?:for )?how many "
                            rf"(?:{_TIME_UNITS})\b(?! (?:old|ago))", re.I)),
    ("date", re.compile(r"^when\b|\b(?:what|which) (?:year|date|day|month|time)\b|\bin what "
                        r"year\b|\bhow long ago\b|\bsince when\b", re.I)),
    ("list", re.compile(r"\b(?:what|which) (?:[\w'’-]+ ){0,2}(?:products|goods|items|sectors|"
                        r"categories|industries|commodities|specialties|formats|clusters|prefectures)"
                        r"\b|\bname (?:some|the)\b|\blist\b", re.I)),
    ("share", re.compile(r"\b(?:share|proportion|fraction|portion)\b|\bhow (?:much|many) of\b"
                         r"|\bwhat (?:percentage|percent) of\b|\baccount(?:ed|s|ing)? for\b", re.I)),
    # A growth asked as a figure: "how much did ... grow", "by what percentage", "what was the
    # increase in ..."; not "What coalition rose up ...?" nor "What kinds of growth ...?".
    ("growth", re.compile(rf"\bhow (?:much|fast|quickly|sharply|far|strongly)\b[^?]*?\b(?:{_GROW})\b"
                          rf"|\bby (?:how much|what (?:percentage|percent|rate|margin))\b|\bhow fast\b"
                          rf"|\bwhat (?:was|is|were|are) (?:the )?(?:[\w'’-]+ ){{0,3}}?(?:growth|increase|"
                          rf"rise|decline|drop|fall)\b(?! (?:of|in) (?:the )?number)|\bgrowth rate\b"
                          rf"|\bwhat about (?:the )?growth\b"
                          # "Xinjiang online retail sales growth": a topic, no question word.
                          rf"|^(?!(?:who|whom|whose|what|which|when|where|why|how)\b)[^?]*\bgrowth\b",
                          re.I)),
    ("price", re.compile(r"\b(?:price[ds]?|cost|costs|priced|sell for|sold for|how expensive)\b",
                         re.I)),
    ("rate", re.compile(r"\b(?:rate|ratio|percentage|percent)\b", re.I)),
    # An amount of money; any other "how much" asks for a quantity of whatever it names.
    ("amount", re.compile(r"\bhow much (?:money|revenue|income)\b|\bhow much (?:did|do|does|has|have)"
                          r"\b[^?]*\b(?:cost|earn|make|pay|spend|sell|bring in|raise|generate|fetch)"
                          r"|\bhow much (?:were|was|are|is)\b[^?]*\b(?:sales|exports|revenues?|worth)\b"
                          r"|\bhow much\b[^?]*\bin (?:us )?(?:dollars|yuan|euros|rmb)\b"
                          r"|\bhow many (?:us )?(?:dollars|yuan|euros)\b|\bwhat (?:was|is|were|are) "
                          r"(?:the )?(?:total )?(?:value|worth|revenue|turnover)|\bworth\b"
                          r"|\b(?:what|which) (?:were|was|are|is) [\w'’ -]*\b(?:sales|revenues?|exports|"
                          r"imports|turnover|income|spending)\b", re.I)),
    ("quantity", re.compile(r"\bhow much\b", re.I)),
    ("count", re.compile(r"\bhow many\b|\bwhat (?:is |was )?(?:the )?(?:number|population)\b",
                         re.I)),
    ("size", re.compile(r"\bhow (?:big|large|wide|tall|high|far)\b|\bwhat (?:is |was )?(?:the )?"
                        r"(?:size|floor area|surface area|length|height|distance)\b", re.I)),
    ("place", re.compile(r"^where\b|\b(?:what|which|in what) (?:[\w-]+ )?(?:city|cities|country|countries|"
                         r"province|region|district|county|place|state|area|location|town)\b", re.I)),
    ("rank", re.compile(r"\b(?:rank(?:ed|s|ing)?|what place)\b", re.I)),
    ("agent", re.compile(r"\bwho(?:m|se)?\b|\b(?:what|which) (?:[\w-]+ ){0,2}(?:company|companies|firm|"
                         r"organi[sz]ation|group|platform|person|brand|agency|department|outlet|app|"
                         r"research firm|publisher|newspaper)\b", re.I)),
)  # fmt: skip
# Measures whose answer is a figure the sentence states, which the stated figures are held to.
FIGURE_MEASURES = frozenset({"growth", "share", "rate", "price", "amount", "count", "size",
                             "duration"})  # fmt: skip
ASKED_MEASURES = tuple(name for name, _ in _MEASURE_RULES) + ("other",)
_MEASURE_NAMES = {"growth": "a growth rate", "share": "a share", "rate": "a rate",
                  "amount": "an amount", "price": "a price", "count": "a number",
                  "size": "a size", "duration": "a duration"}  # fmt: skip
_NAMES_OF_MEASURES = frozenset(
    "price prices cost share proportion percentage rate size average mean typical".split()
)
_NAMED_BY_ITSELF = frozenset({"population", "revenue", "turnover", "income", "value"})
_OF_TAIL = re.compile(
    r"\b(?:price|cost|share|proportion|percentage|rate|size|value|number)\s+of\s+(?:an?\s+|the\s+)?"
    r"([\w’'-]+(?:\s+(?!in\b|at\b|on\b|during\b|for\b)[\w’'-]+){0,3})",
    re.I,
)
# "total", "overall", "in all": the whole is asked for, not one of its parts.
_TOTAL = re.compile(r"\b(?:total|overall|in all|altogether|all together|combined|whole)\b", re.I)
# What "how many" counts: up to four words, to the first plural noun or before a verb.
_COUNTED = re.compile(
    r"\bhow many\s+((?:(?!(?:did|do|does|is|are|was|were|has|have|had|will|can|could|would)\b)"
    r"(?![a-z]+ed\b)[\w’'-]+\s+){0,3}?(?:[\w’'-]+s\b|people|staff)|[\w’'-]+(?=\s+(?:did|do|does|"
    r"is|are|was|were|has|have|had|will|can)\b))",
    re.I,
)
_POSSESSIVE = re.compile(r"^['’]s\b|['’]s\b.*$")
# Capitalized words that name no place: months, "US" of "US dollars", a greeting.
_NO_PLACE = re.compile(
    rf"(?:{'|'.join(m for m in _MONTHS)})|US|Hi|Good|Double|Singles['’]|At|In|On|For|By|From|[QH][1-4]",
    re.I,
)
# Words of a subject that name no part of it: "online retail sales" is the total's name.
_GENERIC = frozenset(
    tokenize("online retail network net e-commerce ecommerce internet total overall all sales "
             "sale trade market year-on-year")
)  # fmt: skip


@dataclass(frozen=True)
class AskedSlots:
    """What a question asks for: the measure, of what, where, when, and the whole or a part.

    Attributes:
        measure: one of ASKED_MEASURES: "growth" for "how much did sales grow", "share",
            "rate", "price", "amount" (of money), "quantity" (any other "how much"), "count",
            "size", "duration", "date", "rank", "place",
            "agent" (a person or organisation), "list", "reason" or "other".
        subject: the thing measured, as the question words it ("live-streaming sales",
            "parcels"), "" when it names none.
        place: the first name the question gives outside its subject ("Xinjiang"), or "".
        period: the period it names, resolved ("H1 2024"), or "".
        scope: "total" when it asks for the whole ("total", "overall"), "part" when its
            subject names a part ("rural online retail sales"), else "".
    """

    measure: str
    subject: str = ""
    place: str = ""
    period: str = ""
    scope: str = ""

    @property
    def wants_figure(self) -> bool:
        """Whether the answer is a figure of a kind that a sentence states or does not."""
        return self.measure in FIGURE_MEASURES

    def describe(self) -> str:
        """What is asked, in words: "a growth rate of live-streaming sales for Chongqing"."""
        words = [_MEASURE_NAMES.get(self.measure, "an answer")]
        subject = " ".join(w for w in self.subject.split() if w.lower() not in _NAMES_OF_MEASURES)
        if subject.lower() in _NAMED_BY_ITSELF:  # "a population", not "a number of population"
            words = [f"a {subject}"]
        elif subject:
            words.append(f"of {subject}")
        if self.place:
            words.append(f"for {self.place}")
        if self.period:
            words.append(f"in {self.period}")
        return " ".join(words)


def _place_rank(question: str, name: str) -> int:
    """How surely `name` stands where a question names a place or an owner: 1 after "in",
    "at" or "from"; 2 as an owner ("Xinjiang's") or after another small word ("did Xinjiang",
    "the 2025 Chongqing 618 festival"); 0 not at all ("TVs" of "larger TVs")."""
    if _NO_PLACE.fullmatch(_POSSESSIVE.split(name)[0]):
        return 0
    at = question.find(name)
    before = question[:at]
    if re.search(r"\b(?:in|at|from|across|within)\s+(?:the\s+)?(?:\d+\s+)?$", before, re.I):
        return 1
    if not before.strip():  # "Yichang online retail sales growth?", not "Overall, how ..."
        return 2 if re.match(r"\s+[a-z]", question[at + len(name) :]) else 0
    owner = re.search(r"['’]s$", name) or re.match(r"['’]s\b", question[at + len(name) :])
    small = re.search(
        r"(?:^|\b(?:of|for|by|did|do|does|has|have|had|is|are|was|were|the|how"
        r"|what|which|when|where|who|drove|and))\s+(?:\d+\s+)?$",
        before,
        re.I,
    )
    return 2 if owner or small else 0  # fmt: skip


def asked_slots(question: str, entities: tuple[str, ...] = (), period: str = "") -> AskedSlots:
    """The slots of `question`; `entities` and `period` as `analyze` finds them."""
    wh = QUESTION_WORD.search(question)
    # From the question word on, with the preposition it takes: "By what percentage ...".
    start = wh.start() if wh else 0
    if wh and (before := re.search(r"\b(?:by|for|in|on|at|from|to)\s+$", question[:start], re.I)):
        start = before.start()
    asked = question[start:]
    measure = next((name for name, rule in _MEASURE_RULES if rule.search(asked)), "other")
    subject = question_subject(question)
    if counted := _COUNTED.search(asked):  # "How many interactive experience zones does ..."
        subject = counted.group(1)
    elif not subject and (focus := _FOCUS.search(asked)):  # "What price", "How big"
        subject = " ".join(w for w in focus.groups() if w and w.lower() not in _NOT_FOCUS)
    # A name after "in", "at" or "from" first ("the JD MALL in Chongqing"), then the others.
    ranked = [(_place_rank(question, e), _POSSESSIVE.split(e)[0]) for e in entities]
    names = [name for rank, name in sorted(ranked, key=lambda pair: pair[0]) if rank]
    place = next((n for n in names if n and n.lower() not in subject.lower()), "")
    # "Xinjiang's online retail sales": the subject is the sales, the place Xinjiang.
    for name in names:
        if subject.lower().startswith(name.lower()):
            place = place or name
            subject = _POSSESSIVE.sub("", subject[len(name) :], count=1).strip()
    # "the average price of a hanging tissue pack": what the measure is of.
    if _NAMES_OF_MEASURES.issuperset(subject.lower().split()) and (tail := _OF_TAIL.search(asked)):
        subject = tail.group(1)
    subject_tokens = set(tokenize(subject))
    named = subject_tokens - set(tokenize(" ".join(entities))) - _GENERIC
    scope = "total" if _TOTAL.search(question) else "part" if len(named) > 1 else ""
    return AskedSlots(measure, subject, place, period, scope)


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
    slots: AskedSlots = AskedSlots("other")  # the measure, subject, place, period and scope

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
    entities = tuple(dict.fromkeys(entities))
    return QuestionAnalysis(
        text=question,
        answer_type=answer_type,
        entities=entities,
        years=years,
        numbers=numbers,
        terms=tuple(dict.fromkeys(tokenize(question))),
        focus=tuple(dict.fromkeys(t for w in focus_words for t in tokenize(w))),
        period=period,
        period_terms=tuple(dict.fromkeys(tokenize(period_words))),
        slots=asked_slots(question, entities, period),
    )
