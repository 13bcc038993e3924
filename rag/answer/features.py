"""Candidate sentences and the features the scorer reads: coverage, similarity, figures, focus."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..index.candidate import Candidate
from ..ingest.text import tokenize
from .figures import has_answer_type
from .question import ANSWER_TYPES, QuestionAnalysis
from .timeref import resolve_period, same_period

_DENSE = (
    "dense",  # cosine of question and sentence
    "dense_gap",  # dense minus the best dense among the candidates (0 for the best)
    "context_dense",  # cosine of question and the sentence with its neighbours
    "previous_dense",  # cosine of question and the previous sentence of the article (0 if none)
    "next_dense",  # the same for the next sentence
)
_LEXICAL = (
    "coverage",  # idf-weighted share of the question's terms found in the sentence
    "coverage_gap",  # coverage minus the best coverage among the candidates
    "context_coverage",  # coverage over the sentence, its neighbours and its article's title
    "previous_coverage",  # coverage by the previous sentence alone
    "next_coverage",  # coverage by the next sentence alone
    "with_previous",  # coverage by the sentence and the previous one together
    "with_next",  # coverage by the sentence and the next one together
    "bigrams",  # share of the question's adjacent term pairs found in the sentence
    "missing_idf",  # rarest question term absent from sentence and neighbours, by idf, 0..1
    "entity_coverage",  # share of the question's named entities found in the context
    "figure_match",  # share of the question's years and numbers found in the context
)
_SHARED = (
    "passage",  # fused retrieval score of the best passage holding the sentence, top = 1
    "type_match",  # the sentence holds something of the expected answer type
    "new_figure",  # a number the question does not state, for figure and date questions
    "figure_near_term",  # such a number within 3 tokens of a question term ("700 brands")
    "focus",  # share of the question's focus words in the sentence; 0.5 when it names none
    "focus_figure",  # a new number right before a focus word ("3,000 products")
    "novelty",  # share of the sentence's tokens that are not in the question
    "length",  # log(1 + tokens of the sentence)
    "lead",  # the article's first sentence
    *(f"asks_{name}" for name in ANSWER_TYPES),  # the question's answer type, one-hot
)
FEATURES = _DENSE + _LEXICAL + _SHARED
# Features each mode can compute: an ablation switches a retriever off entirely.
MODE_FEATURES = {
    "bm25": _LEXICAL + _SHARED,
    "dense": _DENSE + _SHARED,
    "hybrid": FEATURES,
}
_FIGURE_TYPES = frozenset({"percentage", "money", "quantity", "date"})
_NUMERIC = re.compile(r"^[$¥€£]?\d[\d.,]*%?$")


@dataclass(frozen=True)
class CandidateSet:
    """One question's candidates with their feature rows, ready for `score`."""

    analysis: QuestionAnalysis
    candidates: list[Candidate]
    matrix: np.ndarray  # one row of FEATURES per candidate
    idf: dict[str, float] = field(default_factory=dict)  # the index's idf of the question's terms


def features(
    analysis: QuestionAnalysis, candidates: Sequence[Candidate], idf: Callable[[str], float]
) -> np.ndarray:
    """One row of FEATURES per candidate."""
    # Over 60 lines: one literal row per candidate, each feature beside its name, so that the
    # table can be read against FEATURES; split up, the row would be assembled in several places.
    weights = {t: max(idf(t), 0.05) for t in analysis.terms}
    total = sum(weights.values()) or 1.0
    rarest = max(weights.values(), default=1.0)
    bigrams = set(zip(analysis.terms, analysis.terms[1:], strict=False))
    entity_tokens = set(analysis.entity_tokens)
    figures = set(analysis.years + analysis.numbers)
    question_tokens = set(analysis.terms)
    focus = set(analysis.focus)
    wants_figure = analysis.answer_type in _FIGURE_TYPES
    asks = {f"asks_{name}": float(analysis.answer_type == name) for name in ANSWER_TYPES}

    def coverage(tokens: Iterable[str]) -> float:
        # fsum is exact, so the sum does not depend on the set's order, which differs from one
        # process to the next (string hashing): the trees' splits would turn its last bit into
        # another answer in another process.
        return math.fsum(weights[t] for t in set(tokens) & weights.keys()) / total

    rows = []
    for item in candidates:
        sequence = item.tokens
        own = set(sequence)
        # "the first half of this year" in a July 2024 article answers "the first six months of
        # 2024": the question's period words count as found in a sentence of the same period.
        covered = set()
        if same_period(analysis.period, resolve_period(item.text, item.published)):
            covered = set(analysis.period_terms)
        tokens = own | covered
        context = item.context_tokens | covered
        missing = [w for t, w in weights.items() if t not in context]
        row = {
            "dense": item.dense,
            "dense_gap": 0.0,  # the gaps are filled in below, once every row is known
            "coverage_gap": 0.0,
            "context_dense": item.context_dense,
            "previous_dense": item.previous_dense,
            "next_dense": item.next_dense,
            "coverage": coverage(tokens),
            "context_coverage": coverage(context),
            "previous_coverage": coverage(item.previous_tokens),
            "next_coverage": coverage(item.next_tokens),
            "with_previous": coverage(tokens | item.previous_tokens),
            "with_next": coverage(tokens | item.next_tokens),
            "bigrams": len(bigrams & set(zip(sequence, sequence[1:], strict=False))) / len(bigrams)
            if bigrams
            else 0.0,
            "missing_idf": max(missing, default=0.0) / rarest,
            "entity_coverage": len(entity_tokens & context) / len(entity_tokens)
            if entity_tokens
            else 1.0,
            "figure_match": len(figures & context) / len(figures) if figures else 1.0,
            "passage": item.passage,
            "type_match": float(has_answer_type(item.text, analysis.answer_type)),
            "new_figure": float(
                wants_figure and any(_NUMERIC.match(t) for t in tokens - question_tokens)
            ),
            "figure_near_term": float(
                wants_figure and _figure_near_term(sequence, question_tokens)
            ),
            "focus": len(focus & own) / len(focus) if focus else 0.5,
            "focus_figure": float(_figure_before(sequence, focus, question_tokens)),
            "novelty": len(own - question_tokens) / len(own) if own else 0.0,
            "length": math.log1p(len(sequence)),
            "lead": float(item.lead),
            **asks,
        }
        rows.append([row[name] for name in FEATURES])
    matrix = np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))
    if len(matrix):
        for gap, base in (("dense_gap", "dense"), ("coverage_gap", "coverage")):
            column = matrix[:, FEATURES.index(base)]
            matrix[:, FEATURES.index(gap)] = column - column.max()
    return matrix


def context_words(candidates: Sequence[Candidate]) -> frozenset[str]:
    """Every token of the candidates' contexts (sentence, neighbours, title, year)."""
    return frozenset().union(*(c.context_tokens for c in candidates))


def missing_terms(
    analysis: QuestionAnalysis, candidates: Sequence[Candidate], seen: frozenset[str]
) -> list[str]:
    """The question's names, years and figures that no candidate's context mentions.

    "How much did Tibet's sales grow?" over articles that never name Tibet: the sentences
    about Xinjiang look like answers, but the question's key entity is missing from all of them.
    """
    # "Q3" is found in a sentence about "the third quarter of 2024": the words naming the
    # question's period are not missing when a candidate speaks of that period.
    # "Q3 2023" over the third quarter of 2024 misses 2023 only.
    period_words = " ".join(analysis.period_terms)
    periods = {resolve_period(c.text, c.published) for c in candidates}
    in_period = any(same_period(analysis.period, said) for said in periods)
    in_part = any(same_period(analysis.period.split(" ")[0], said) for said in periods)
    missing = []
    for term in analysis.entities + analysis.years + analysis.numbers:
        tokens = [t for t in tokenize(term) if t not in _GENERIC]
        named = all(t in period_words for t in tokens)
        if named and (in_period or (in_part and term not in analysis.years)):
            continue
        if tokens and not all(t in seen for t in tokens):
            missing.append(term)
    return missing


_GENERIC = frozenset(
    tokenize(
        "city county district province region prefecture state country university company group "
        "river mountain park street"
    )
)


def _figure_near_term(sequence: Sequence[str], question_tokens: set[str], reach: int = 3) -> bool:
    terms = [i for i, t in enumerate(sequence) if t in question_tokens]
    return any(
        abs(i - j) <= reach
        for i, t in enumerate(sequence)
        if t not in question_tokens and _NUMERIC.match(t)
        for j in terms
    )


def _figure_before(sequence: Sequence[str], focus: set[str], question_tokens: set[str]) -> bool:
    return any(
        t in focus
        and any(_NUMERIC.match(u) and u not in question_tokens for u in sequence[max(i - 3, 0) : i])
        for i, t in enumerate(sequence)
    )
