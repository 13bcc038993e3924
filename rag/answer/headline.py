"""Headline figures: each article's own growth figure for an unqualified "how much did X grow"."""

from __future__ import annotations

from collections.abc import Sequence

from ..ingest.text import tokenize
from ..types import Evidence
from .figures import (
    asked_measure,
    figure_measure,
    figure_subject,
    question_subject,
    split_subject,
    subject_head,
)
from .question import QuestionAnalysis

# Words that make a subject no narrower: "total online retail sales" is the headline itself.
_GENERIC = frozenset(tokenize("total overall all whole"))
MAX_HEADLINES = 6  # articles listed side by side at most


def unqualified_growth(analysis: QuestionAnalysis) -> bool:
    """Whether the question asks how much something grew without saying where or when, so
    that each article's own headline figure answers it ("How much did online sales grow?")."""
    return bool(
        analysis.answer_type in ("percentage", "quantity")
        and asked_measure(analysis.text) == "growth"
        and not (analysis.entities or analysis.years or analysis.period)
    )


def headlines(question: str, evidence: Sequence[Evidence]) -> list[int]:
    """Positions in `evidence` of each article's headline growth figure for `question`, best
    scored first: of the article's growth figures of what was asked ("online retail sales"),
    the one of the broadest subject, then the earliest in the article.

    A subject is narrower by each word the question's lacks ("rural", "service-oriented"), and
    by two for an "of"/"through" tail ("of agricultural products"). When the question names
    its subject with more than one word, a figure's subject must share one besides the head:
    "sales" of televisions is not "online retail sales".
    """
    asked = question_subject(question)
    head = subject_head(asked)
    asked_words = set(tokenize(asked))
    modifiers = asked_words - {head}
    best: dict[str, tuple[tuple[int, int, float], int]] = {}
    for position, item in enumerate(evidence):
        offsets = item.answer_offsets()
        if offsets is None or figure_measure(item.text, *offsets) != "growth":
            continue
        subject = figure_subject(item.text, *offsets)
        main, tail = split_subject(subject)
        words = set(tokenize(main))
        if head and subject_head(subject) != head:
            continue
        if modifiers and not words & modifiers:
            continue
        narrower = len(words - asked_words - _GENERIC) + (2 if tail else 0)
        key = (narrower, item.start, -item.score)
        if item.doc_id not in best or key < best[item.doc_id][0]:
            best[item.doc_id] = (key, position)
    chosen = [position for _, position in best.values()]
    chosen.sort(key=lambda position: -evidence[position].score)
    return chosen[:MAX_HEADLINES]
