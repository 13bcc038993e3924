"""Fit: whether a sentence's short answer is the kind of thing the question asks for."""

from __future__ import annotations

import re

from .figures import FIGURE, PERCENT_UNITS, YEAR, asked_measure, fits
from .question import QuestionAnalysis
from .types import Evidence

# Questions that ask for a number of things, or an amount: their answer holds a number.
_THE = r"(?:(?:is|are|was|were) the )?"
_COUNT = re.compile(rf"\bhow many\b|\bwhat {_THE}(?:number|population)\b", re.I)
_AMOUNT = re.compile(rf"\bhow much\b|\bwhat {_THE}(?:amount|percentage|share|proportion)\b", re.I)
# Numbers in figures or words, and the words that answer "how many" without one ("twice").
_NUMBER = re.compile(
    r"\d[\d.,]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|once|"
    r"twice|thrice|several|none|no|few|many|all|half)\b",
    re.I,
)
_SHARE = re.compile(r"\bhow many of\b", re.I)  # "how many of the voters": a share answers it
_BARE_YEAR = re.compile(rf"(?:{YEAR})")
_PERCENT_NEXT = re.compile(rf"\s?(?:{PERCENT_UNITS})", re.I)
_CHOICE = re.compile(r"\bor\b", re.I)  # "Was it A or B?": the answer is one of its own words
_HOW_LONG = re.compile(r"\bhow long\b(?! ago)", re.I)
_DURATION = re.compile(
    r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies)"
    r"|fortnight|overnight|night)\b",
    re.I,
)


def misfit(analysis: QuestionAnalysis, item: Evidence) -> str:
    """Why `item`'s short answer cannot be what the question asks, or "" when it can be.

    "JD" does not answer "Who founded JD?": it only repeats the question. "2025" (a year) and
    "618" (the question's own number) are not how many visitors came, and "12" in "12 percent"
    is not a population.
    """
    short = item.short_answer
    if short is None:
        return ""
    asked = analysis.text
    # Verbatim, as a whole: SQuAD's answers often share a stem or a word with the question
    # ("Islam" for "What is an Islamic revival movement?"), and are right.
    echo = re.search(rf"(?<!\w){re.escape(short.text.strip())}(?!\w)", asked)
    if short.text.strip() and echo and not _CHOICE.search(asked):
        return "it only repeats the question's words"
    if (
        analysis.answer_type == "percentage"
        and asked_measure(asked) == "growth"
        and not fits(short.text, "percentage", analysis.terms)
    ):
        return "it is an amount or a count, not how much something grew"
    if _HOW_LONG.search(asked) and not _DURATION.search(short.text):
        if FIGURE["date"].fullmatch(short.text.strip()):
            return "it is a date, not how long something lasted"
    if not (_COUNT.search(asked) or _AMOUNT.search(asked)):
        return ""
    numbers = [
        n.group() for n in _NUMBER.finditer(short.text)
        if not _BARE_YEAR.fullmatch(n.group()) and n.group() not in analysis.numbers
    ]  # fmt: skip
    if not numbers:
        return "it holds no number but a year or the question's own"
    after = item.text[short.end - item.start :]
    percent = "%" in short.text or "percent" in short.text.lower() or _PERCENT_NEXT.match(after)
    if _COUNT.search(asked) and percent and not _SHARE.search(asked):
        return "it is a percentage, not a count"
    return ""
