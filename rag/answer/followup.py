"""Follow-up questions: a short message merged with the previous question, and a Conversation."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Protocol

from ..scope import Scope
from ..settings import MAX_QUESTION_CHARS, Mode, Settings, validate_question
from ..types import Abstention, Answer
from .compose import abstain, cited
from .figures import YEAR
from .question import QUESTION_WORD

# The rule, kept simple so that a reader can predict it (the answer always shows the question
# it actually answered):
#
# 1. A message is a follow-up only when it cannot stand alone, and there is a previous
#    question: it starts with a connective ("and", "what about", "how about", "what of", ...),
#    or it is an ellipsis of at most FOLLOWUP_MAX_WORDS words with no question word (what,
#    which, who, when, where, why, how) and no leading auxiliary verb (is, did, can, ...) that
#    starts with a preposition ("in rural areas?"), refers back with a pronoun ("and its
#    share?"), or is a bare name, year or phrase of at most BARE_WORDS words ("Yichang?").
#    "JD logistics hub size" stands alone: it is answered as the user wrote it.
# 2. What follows the connective, the phrase, is merged into the previous question:
#    a. a phrase that is itself a question ("and how many brands took part?") replaces it;
#    b. a phrase naming a year replaces the previous question's years ("and in 2023?");
#    c. a phrase holding a capitalized name replaces the previous question's first name,
#       keeping a possessive: "what about Yichang?" after "How much did Xinjiang's sales grow?"
#       asks "How much did Yichang's sales grow?";
#    d. any other phrase is appended: "in rural areas" as is, a bare noun phrase after "for".
#    e. "why?" (or "how come?") after a question asked with "how much did …" or "by what
#       percentage did …" asks why: "Why did Xinjiang's sales grow?".
# 3. A merge longer than a question may be is not made: the message is answered alone.
# 4. The year or name swapped in (b, c) must be honoured by the evidence: an answer keeps only
#    the sentences that mention it (or whose article's title does), and abstains, naming it,
#    when none does. "What about Yichang?" is never answered with Xinjiang's figure.

FOLLOWUP_MAX_WORDS = 4
BARE_WORDS = 2
WIDER_TOP_K = 10  # sentences asked for when the evidence must mention a swapped-in term
_BACK_REFERENCES = frozenset("it its they them their that those this these there".split())
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
_WHY = re.compile(r"(?:and )?(?:why|why so|how come|for what reason)", re.I)
# The question words of a question whose subject and verb follow an auxiliary ("how much did").
_ASKED_WITH = re.compile(
    r"^(?:how (?:much|many(?: \w+)?|fast|far|long|often)|by (?:how much|what percentage))\s+"
    r"(?=(?:did|does|do|is|are|was|were|has|have|had)\b)",
    re.I,
)


@dataclass(frozen=True)
class FollowUp:
    """A message as answered: the question, and the year or name its evidence must mention."""

    question: str
    requires: str | None = None  # swapped in by a follow-up (rule 2b, 2c); None otherwise


def resolve_followup(question: str, previous: str | None) -> str:
    """The question to answer: `question` itself, or merged with `previous` by the rule above."""
    return follow_up(question, previous).question


def follow_up(question: str, previous: str | None) -> FollowUp:
    """`question` as the rule above answers it after `previous`."""
    text = " ".join(question.split())
    if not previous:
        return FollowUp(text)
    body = text.rstrip(" ?.!")
    lower = body.lower()
    base = " ".join(previous.split()).rstrip(" ?.!")
    asked = _ASKED_WITH.match(base)
    if _WHY.fullmatch(lower) and asked:  # rule 2e
        return FollowUp("Why " + base[asked.end() :] + "?")
    connective = next((c for c in _CONNECTIVES if lower == c or lower.startswith(c + " ")), None)
    words = body.split()
    if connective is not None:
        phrase = body[len(connective) :].strip(" ,;:")
    elif _is_ellipsis(words, body):
        phrase = body
    else:
        return FollowUp(text)
    if not phrase:
        return FollowUp(text)
    merged = _merge(phrase, base)
    if len(merged.question) > MAX_QUESTION_CHARS:
        return FollowUp(text)
    return merged


def _is_ellipsis(words: list[str], body: str) -> bool:
    """A message too short and too bare to stand alone (rule 1, without a connective)."""
    if not 0 < len(words) <= FOLLOWUP_MAX_WORDS or QUESTION_WORD.search(body):
        return False
    lowered = [word.lower().strip(",;:") for word in words]
    if lowered[0] in _AUXILIARY_VERBS:
        return False
    return (
        lowered[0] in _PREPOSITIONS
        or bool(_BACK_REFERENCES.intersection(lowered))
        or len(words) <= BARE_WORDS
    )


def _merge(phrase: str, base: str) -> FollowUp:
    first = phrase.split()[0].lower()
    if QUESTION_WORD.match(phrase) or first in _AUXILIARY_VERBS:
        return FollowUp(phrase[0].upper() + phrase[1:] + "?")
    year = _YEAR.search(phrase)
    if year and _YEAR.search(base):
        return FollowUp(_YEAR.sub(year.group(), base) + "?", year.group())
    new_names = _names(phrase)
    old_names = list(_name_spans(base))
    if new_names and old_names:
        start, end, old = old_names[0]
        new = _POSSESSIVE.sub("", new_names[0])
        suffix = _POSSESSIVE.search(old)
        merged = base[:start] + new + (suffix.group() if suffix else "") + base[end:] + "?"
        return FollowUp(merged, new)
    if first not in _PREPOSITIONS and not year:
        phrase = "for " + phrase
    return FollowUp(f"{base} {phrase}?")


def honoured(answer: Answer, requires: str, threshold: float, top_k: int) -> Answer:
    """`answer` citing only its first `top_k` sentences that mention `requires` (rule 4); an
    abstention naming it when none does, or when the best that does is below `threshold`."""
    kept = [e for e in answer.evidence if e.mentions(requires)][:top_k]
    mode = Mode.of(answer.mode)
    if kept and kept[0].score >= threshold:
        result = Answer(
            answer.question, cited(kept), False, kept[0].score, kept, answer.answered_question,
            answer.mode,
        )  # fmt: skip
    elif kept:
        # The closest passages shown are those that mention it, when there are some; else it is
        # the missing term the abstention names.
        result = abstain(
            answer.question, answer.answered_question, kept, kept[0].score, mode,
            Abstention.LOW_CONFIDENCE, (),
        )  # fmt: skip
    else:
        result = abstain(
            answer.question, answer.answered_question, answer.evidence[:top_k], 0.0, mode,
            Abstention.MISSING_TERMS, (requires,),
        )  # fmt: skip
    return replace(result, scope=answer.scope)


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
    threshold: float
    settings: Settings

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        mode: str | None = None,
        scope: Scope | None = None,
    ) -> Answer: ...


def ask_followup(
    assistant: _Asks,
    question: str,
    previous: str | None,
    *,
    top_k: int | None = None,
    mode: str | None = None,
    scope: Scope | None = None,
) -> Answer:
    """The answer to `question` after `previous` (None: a first question), by the rule above;
    only the articles and dates in `scope` are searched."""
    # A first question is asked as typed: its answer echoes it.
    turn = follow_up(validate_question(question), previous) if previous else FollowUp(question)
    answer = assistant.ask(turn.question, top_k=top_k, mode=mode, scope=scope)
    if turn.requires is None or all(e.mentions(turn.requires) for e in answer.evidence):
        return answer
    # Asked again wider, so that sentences mentioning the swapped-in name or year are kept even
    # when others outrank them (the old subject's sentences often do).
    wanted = top_k or assistant.settings.top_k
    wider = assistant.ask(turn.question, top_k=max(wanted, WIDER_TOP_K), mode=mode, scope=scope)
    if answer.abstained:  # it stays an abstention, for its reason; the closest passages honour it
        kept = [e for e in wider.evidence if e.mentions(turn.requires)][:wanted]
        return replace(
            abstain(
                answer.question, answer.answered_question, kept or answer.evidence,
                answer.confidence, Mode.of(answer.mode), answer.abstention, answer.missing,
                answer.unstated,
            ),
            scope=answer.scope,
        )  # fmt: skip
    return honoured(wider, turn.requires, assistant.threshold, wanted)


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

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        mode: str | None = None,
        scope: Scope | None = None,
    ) -> Answer:
        """Answer `question`, merged with the previous one when it cannot stand alone."""
        answer = ask_followup(
            self._assistant, question, self.previous, top_k=top_k, mode=mode, scope=scope
        )
        self.previous = answer.answered_question or answer.question
        return answer

    def clear(self) -> None:
        """Forget the previous question: the next one stands alone."""
        self.previous = None
