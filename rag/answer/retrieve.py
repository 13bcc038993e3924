"""Retrieval: each question embedded once, its candidate sentences found, their features made."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..index.build_report import BuildReport
from ..index.candidate import Candidate
from ..index.embed import Embedder
from ..scope import EVERYTHING, Scope
from ..settings import Mode, Settings, validate_questions
from ..types import Article
from .features import CandidateSet, features
from .question import analyze


class Source(Protocol):
    """What questions are answered from: one machine's `Index`, or a `ShardedIndex`."""

    articles: tuple[Article, ...]
    report: BuildReport

    def idf(self, token: str) -> float: ...

    def candidates(
        self, question: str, vector: np.ndarray, mode: Mode, settings: Settings, scope: Scope
    ) -> list[Candidate]: ...


def candidate_sets(
    index: Source,
    embedder: Embedder,
    questions: Sequence[str],
    mode: Mode,
    settings: Settings,
    scope: Scope = EVERYTHING,
) -> list[CandidateSet]:
    """For each question, its analysis and every candidate sentence (of the articles in
    `scope`) with its features.

    This is what the composer ranks; `rag train` fits the scorers on the same rows.
    """
    cleaned = validate_questions(questions)
    if mode.dense:
        vectors = embedder.encode_questions(cleaned)
    else:
        vectors = np.zeros((len(cleaned), 1), dtype=np.float32)
    out = []
    for question, vector in zip(cleaned, vectors, strict=True):
        analysis = analyze(question)
        found = index.candidates(question, vector, mode, settings, scope)
        idf = {t: index.idf(t) for t in analysis.terms}
        out.append(CandidateSet(analysis, found, features(analysis, found, idf.__getitem__), idf))
    return out
