"""Relative time in news text ("the first half of this year") resolved against its date."""

from __future__ import annotations

import re

from .figures import MONTH, MONTHS, YEAR

_MONTHS = tuple(m.lower() for m in MONTHS)
_MONTH = rf"({MONTH})"
_YEAR_WORD = rf"(this year|the year|last year|{YEAR})"
_HALF = re.compile(
    rf"\b(first|second) (?:half|six months) of {_YEAR_WORD}"
    # "in the first half of 2024" is the first alternative's, found from "first" on.
    rf"|\bin the (first|second) half\b(?! of)|\bH([12]) ({YEAR})\b",
    re.I,
)
_ORDINALS = ("first", "second", "third", "fourth")
# "Q3 2024", "the third quarter of 2024", "in the third quarter": one period, "Q3 2024".
_QUARTER = re.compile(
    rf"\bQ([1-4])(?:(?:\s*of\s+|\s+)({YEAR}))?\b"
    rf"|\b({'|'.join(_ORDINALS)}) quarter(?: of {_YEAR_WORD})?",
    re.I,
)
_COUNTS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven")
_FIRST_MONTHS = re.compile(rf"\bfirst (\d{{1,2}}|{'|'.join(_COUNTS)}) months of {_YEAR_WORD}", re.I)
_MONTH_RANGE = re.compile(
    rf"\b(?:from )?{_MONTH}\s*(?:to|through|[-–—])\s*{_MONTH},? ({YEAR})?", re.I
)
_DAY = re.compile(rf"\b{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?\b(?:,? ({YEAR}))?", re.I)
_MONTH_OF_YEAR = re.compile(rf"\b{_MONTH},? ({YEAR})\b", re.I)
_YEAR = re.compile(
    rf"\b(?:in|during|by the end of|of|for) ({YEAR})\b|\b(this year|last year)\b", re.I
)


def resolve_period(text: str, published: str) -> str:
    """The main period a sentence (or question) speaks of, in absolute terms, or "".

    Against a 2024-07-19 article: "the first half of this year" -> "H1 2024", "last year" ->
    "2023", "November 26" -> "2024-11-26", "From January to May 2024" and "the first five months
    of 2024" -> "2024-01/2024-05" ("January to June" is "H1"). Relative words need `published`;
    explicit years and halves do not.
    """
    return find_period(text, published)[0]


def find_period(text: str, published: str) -> tuple[str, str]:
    """`resolve_period` with the words that name the period: ("H1 2024", "first six months of
    2024"); ("", "") when the text names none that `published` can resolve."""
    year = int(published[:4]) if re.match(r"(19|20)\d\d", published or "") else None
    if match := _QUARTER.search(text):
        number = match[1] or str(_ORDINALS.index(match[3].lower()) + 1)
        when = _year(match[2] or match[4] or "this year", year)
        # A question names "Q3" without a year: that quarter of whichever year.
        return (f"Q{number} {when}" if when else f"Q{number}"), match[0]
    if match := _HALF.search(text):
        half = (match[1] or match[3] or "").lower()
        number = match[4] or ("1" if half == "first" else "2")
        when = _year(match[2] or match[5] or "this year", year)
        return (f"H{number} {when}", match[0]) if when else ("", "")
    if match := _FIRST_MONTHS.search(text):
        count = match[1].lower()
        months = int(count) if count.isdigit() else _COUNTS.index(count) + 1
        when = _year(match[2], year)
        if when and 1 <= months <= 12:
            return _months(when, 1, months), match[0]
    if match := _MONTH_RANGE.search(text):
        when = _year(match[3] or "this year", year)
        if when:
            start, end = (_MONTHS.index(m.lower()) + 1 for m in (match[1], match[2]))
            return _months(when, start, end), match[0]
    if match := _DAY.search(text):
        when = _year(match[3] or "this year", year)
        day = int(match[2])
        if when and 1 <= day <= 31:
            return f"{when}-{_MONTHS.index(match[1].lower()) + 1:02d}-{day:02d}", match[0]
    if match := _MONTH_OF_YEAR.search(text):
        return f"{match[2]}-{_MONTHS.index(match[1].lower()) + 1:02d}", match[0]
    if match := _YEAR.search(text):
        when = _year(match[1] or match[2], year)
        return (str(when), match[0]) if when else ("", "")
    return "", ""


_MACHINE_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_MACHINE_RANGE = re.compile(r"^(\d{4})-(\d{2})/(\d{4})-(\d{2})$")


def period_label(period: str) -> str:
    """A period as `resolve_period` gives it, for people to read: "2024-01/2024-05" ->
    "January–May 2024", "2023-11/2024-02" -> "November 2023–February 2024", "2024-11-26" ->
    "November 26, 2024", "2024-11" -> "November 2024". "H1 2024", "Q3 2024" and "2024" read
    as they are, and so does anything else (the machine value stays what APIs compare)."""
    if match := _MACHINE_RANGE.match(period):
        first_year, first, last_year, last = match.groups()
        if _month(first) and _month(last):
            if first_year == last_year:
                if first == last:
                    return f"{_month(first)} {first_year}"
                return f"{_month(first)}–{_month(last)} {first_year}"
            return f"{_month(first)} {first_year}–{_month(last)} {last_year}"
    if (match := _MACHINE_MONTH.match(period)) and _month(match[2]):
        year, month, day = match.groups()
        if day is None:
            return f"{_month(month)} {year}"
        if 1 <= int(day) <= 31:
            return f"{_month(month)} {int(day)}, {year}"
    return period


def _month(number: str) -> str:
    return MONTHS[int(number) - 1] if 1 <= int(number) <= 12 else ""


def same_period(asked: str, said: str) -> bool:
    """Whether a sentence's period `said` is the period a question `asked` names ("Q3" is the
    third quarter of any year)."""
    return bool(asked) and (said == asked or said.startswith(asked + " "))


def _months(year: int, start: int, end: int) -> str:
    # One name per period, so that "January to June" meets "the first half".
    named = {(1, 6): f"H1 {year}", (7, 12): f"H2 {year}"}
    named.update({(3 * q - 2, 3 * q): f"Q{q} {year}" for q in range(1, 5)})
    return named.get((start, end), f"{year}-{start:02d}/{year}-{end:02d}")


def _year(word: str, published_year: int | None) -> int | None:
    word = word.lower()
    if word.isdigit():
        return int(word)
    if published_year is None:
        return None
    return published_year - 1 if word == "last year" else published_year
