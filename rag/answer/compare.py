"""Comparison questions ("compare A and B", "A vs B"): one question per side, the best of each."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..settings import Mode
from ..types import Abstention, Answer, Evidence
from .compose import MISSING_TERM_PENALTY, abstain, cited

# A question that opens with "Compare" or "(A) comparison of/between", or says "vs"/"versus".
_LEAD = re.compile(r"^(?:compare|(?:a\s+)?comparison\s+(?:of|between))\s+", re.IGNORECASE)
_VERSUS = re.compile(r"\b(?:vs\.?|versus)\s", re.IGNORECASE)
_NAME = r"[A-Z][\w’'&.-]*(?:\s+[A-Z][\w’'&.-]*)*"
# Two names joined: "Xinjiang and Yichang", "JD vs. Alibaba", "Chongqing with Yichang".
_PAIR = re.compile(rf"(?P<a>{_NAME})\s+(?:and|vs\.?|versus|with|to|or)\s+(?P<b>{_NAME})")


# Why an answer abstains when the articles say nothing of its names.
ABSENT = (Abstention.MISSING_TERMS, Abstention.NOTHING_FOUND)


@dataclass(frozen=True)
class Comparison:
    """A question that compares two named sides, and the question to ask of each."""

    sides: tuple[str, str]
    questions: tuple[str, str]

    def combine(self, raw: str, answers: tuple[Answer, Answer], top_k: int) -> Answer:
        """One answer: each side's best sentence that names it, then the next best, in turn.

        It answers only when both sides do; otherwise it abstains, naming the side the
        articles say nothing of, over the sentences found for the other.
        """
        per_side = [
            [e for e in answer.evidence if e.mentions(side)]
            for side, answer in zip(self.sides, answers, strict=True)
        ]
        evidence: list[Evidence] = []
        for rank in range(max(map(len, per_side), default=0)):
            for found in per_side:
                if rank < len(found) and found[rank] not in evidence:
                    evidence.append(found[rank])
        evidence = evidence[: max(top_k, 2)]
        # A side is missing when the articles say nothing of it, not when its answer is merely
        # unsure: "Compare Chongqing and Tibet" names Tibet alone as what the articles lack.
        missing = tuple(
            side
            for side, answer, found in zip(self.sides, answers, per_side, strict=True)
            if not found or answer.abstention in ABSENT
        )
        mode = Mode.of(answers[0].mode)
        question = " ".join(raw.split())
        confidence = min((found[0].score for found in per_side if found), default=0.0)
        if missing:
            reason = Abstention.MISSING_TERMS if evidence else Abstention.NOTHING_FOUND
            confidence *= MISSING_TERM_PENALTY  # as the composer rates a question half found
            return abstain(raw, question, evidence, confidence, mode, reason, missing)
        unsure = [a.abstention for a in answers if a.abstained]
        if unsure:  # each side is named, but one is not answered with confidence
            return abstain(raw, question, evidence, confidence, mode, unsure[0], ())
        return Answer(raw, cited(evidence), False, confidence, evidence, question, mode.value)


def comparison(question: object) -> Comparison | None:
    """The comparison `question` asks for, or None when it compares nothing named."""
    if not isinstance(question, str):
        return None
    text = " ".join(question.split()).rstrip(" ?.!")
    if not (_LEAD.match(text) or _VERSUS.search(text)):
        return None
    body = _LEAD.sub("", text)
    pair = _PAIR.search(body)
    if pair is None or pair.group("a").lower() == pair.group("b").lower():
        return None
    a, b = pair.group("a"), pair.group("b")
    ask = [(body[: pair.start()] + side + body[pair.end() :]).strip() + "?" for side in (a, b)]
    return Comparison((a, b), (ask[0], ask[1]))
