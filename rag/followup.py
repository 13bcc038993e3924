"""Follow-up questions: a short message merged with the previous question, and a Conversation."""

from __future__ import annotations

import re
from typing import Protocol

from .figures import YEAR
from .question import QUESTION_WORD
from .settings import validate_question
from .types import Answer

# The rule, kept simple so that a reader can predict it (the answer always shows the question
# it actually answered):
#
# 1. A message is a follow-up when there is a previous question and the message either starts
#    with a connective ("and", "what about", "how about", "what of", ...) or is at most
#    FOLLOWUP_MAX_WORDS words long with no question word (what, which, who, when, where, why,
#    how) and no leading auxiliary verb (is, did, can, ...): "and in rural areas?", "Yichang?".
# 2. What follows the connective, the phrase, is merged into the previous question:
#    a. a phrase that is itself a question ("and how many brands took part?") replaces it;
#    b. a phrase naming a year replaces the previous question's years ("and in 2023?");
#    c. a phrase holding a capitalized name replaces the previous question's first name,
#       keeping a possessive: "what about Yichang?" after "How much did Xinjiang's sales grow?"
#       asks "How much did Yichang's sales grow?";
#    d. any other phrase is appended: "in rural areas" as is, a bare noun phrase after "for".

FOLLOWUP_MAX_WORDS = 4
_CONNECTIVES = (
    "and what about",
    "and how about",
    "and what of",
    "what about",
    "how about",
    "what of",
    "same for",
    "and also",
    "and",
)
_AUXILIARY_VERBS = frozenset(
    "is are was were do does did can could will would should has have had may might must".split()
)
_PREPOSITIONS = frozenset(
    "in for during at on among from by with to of across between within over under after "
    "before since outside inside near around".split()
)
_YEAR = re.compile(rf"\b{YEAR}\b")
_NAME = re.compile(r"\b[A-Z][\w’'&.-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w’'&.-]*)*")
# Capitalized only because they start the question, never names to substitute.
_NOT_NAMES = frozenset(
    "what which who whom whose when where why how is are was were do does did can could will "
    "would should has have had the a an in on of for by to and or at from during by".split()
)
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")


def resolve_followup(question: str, previous: str | None) -> str:
    """The question to answer: `question` itself, or merged with `previous` by the rule above."""
    text = " ".join(question.split())
    if not previous:
        return text
    body = text.rstrip(" ?.!")
    lower = body.lower()
    connective = next((c for c in _CONNECTIVES if lower == c or lower.startswith(c + " ")), None)
    words = body.split()
    if connective is not None:
        phrase = body[len(connective) :].strip(" ,;:")
    elif (
        0 < len(words) <= FOLLOWUP_MAX_WORDS
        and not QUESTION_WORD.search(body)
        and words[0].lower() not in _AUXILIARY_VERBS
    ):
        phrase = body
    else:
        return text
    if not phrase:
        return text
    first = phrase.split()[0].lower()
    if QUESTION_WORD.match(phrase) or first in _AUXILIARY_VERBS:
        return phrase[0].upper() + phrase[1:] + "?"
    base = " ".join(previous.split()).rstrip(" ?.!")
    year = _YEAR.search(phrase)
    if year and _YEAR.search(base):
        return _YEAR.sub(year.group(), base) + "?"
    new_names = _names(phrase)
    old_names = list(_name_spans(base))
    if new_names and old_names:
        start, end, old = old_names[0]
        new = _POSSESSIVE.sub("", new_names[0])
        suffix = _POSSESSIVE.search(old)
        if suffix:
            new += suffix.group()
        return base[:start] + new + base[end:] + "?"
    if first not in _PREPOSITIONS and not year:
        phrase = "for " + phrase
    return f"{base} {phrase}?"


def _name_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of capitalized names, leading question words dropped."""
    spans = []
    for match in _NAME.finditer(text):
        start, name = match.start(), match.group()
        while name and name.split()[0].lower() in _NOT_NAMES:
            head = name.split()[0]
            rest = name[len(head) :].lstrip()
            start += len(name) - len(rest)
            name = rest
        if name:
            spans.append((start, start + len(name), name))
    return spans


def _names(text: str) -> list[str]:
    return [name for _, _, name in _name_spans(text)]


class _Asks(Protocol):
    def ask(
        self, question: str, *, top_k: int | None = None, mode: str | None = None
    ) -> Answer: ...


class Conversation:
    """Questions asked in turn of one assistant, each follow-up merged with the one before.

    `ask` returns the Answer, whose `answered_question` is what was actually answered;
    `clear` forgets the previous question.
    """

    def __init__(self, assistant: _Asks) -> None:
        self._assistant = assistant
        self.previous: str | None = None

    def resolve(self, question: str) -> str:
        """What `ask` would answer: the question checked and merged with the previous one."""
        return resolve_followup(validate_question(question), self.previous)

    def ask(self, question: str, *, top_k: int | None = None, mode: str | None = None) -> Answer:
        answer = self._assistant.ask(self.resolve(question), top_k=top_k, mode=mode)
        self.previous = answer.answered_question or answer.question
        return answer

    def clear(self) -> None:
        self.previous = None
