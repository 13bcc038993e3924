"""Retrieval: BM25 and dense passages fused, then their sentences as candidates with raw signals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .embed import Embedder
from .features import Candidate, CandidateSet, features
from .fusion import reciprocal_rank_fusion
from .index import Index
from .question import analyze
from .settings import Mode, Settings, validate_question


def candidate_sets(
    index: Index, embedder: Embedder, questions: Sequence[str], mode: Mode, settings: Settings
) -> list[CandidateSet]:
    """For each question, its analysis and every candidate sentence with its features.

    This is what the composer ranks; `rag train` fits the scorers on the same rows.
    """
    if isinstance(questions, str):
        raise TypeError("ask_many takes a list of questions; use ask() for a single string")
    cleaned = [validate_question(q) for q in questions]
    if mode.dense:
        vectors = embedder.encode_questions(cleaned)
    else:
        vectors = np.zeros((len(cleaned), 1), dtype=np.float32)
    out = []
    for question, vector in zip(cleaned, vectors, strict=True):
        analysis = analyze(question)
        found = candidates(index, question, vector, mode, settings)
        out.append(CandidateSet(analysis, found, features(analysis, found, index.sparse.idf)))
    return out


def candidates(
    index: Index, question: str, vector: np.ndarray, mode: Mode, settings: Settings
) -> list[Candidate]:
    """Every sentence of the best fused passages, with the signals the features are made of."""
    rankings = []
    if mode.sparse:
        rankings.append(index.sparse.search(question, settings.fetch)[0].tolist())
    if mode.dense:
        rankings.append(index.dense.search(vector, settings.fetch)[0].tolist())
    fused = reciprocal_rank_fusion(rankings, limit=settings.passages)
    if not fused:
        return []
    top = fused[0][1]
    best: dict[int, float] = {}
    for pid, value in fused:
        first, last = index.passages[pid]
        for sid in range(int(first), int(last) + 1):
            best[sid] = max(best.get(sid, 0.0), value / top)
    ids = sorted(best)
    spans = [index.neighbours(sid) for sid in ids]
    similarity = _similarities(index, ids, spans, vector, mode)
    out = []
    for k, (sid, (lo, hi)) in enumerate(zip(ids, spans, strict=True)):
        doc, start, end = (int(v) for v in index.sentences[sid])
        article = index.articles[doc]
        tokens = index.tokens[sid]
        previous = frozenset(index.tokens[lo]) if lo < sid else frozenset()
        following = frozenset(index.tokens[hi]) if hi > sid else frozenset()
        dense, context, before, after = similarity[k]
        out.append(
            Candidate(
                sentence=sid,
                text=article.text[start:end],
                tokens=tokens,
                context_tokens=index.doc_tokens[doc].union(tokens, previous, following),
                dense=dense,
                context_dense=context,
                passage=best[sid],
                previous_tokens=previous,
                next_tokens=following,
                previous_dense=before,
                next_dense=after,
                lead=lo == sid,  # no previous sentence in its article
                published=article.published,
                doc=doc,
                start=start,
                end=end,
                title=article.title,
                previous=index.sentence_text(lo) if lo < sid else "",
                next=index.sentence_text(hi) if hi > sid else "",
            )
        )
    return out


def _similarities(
    index: Index, ids: list[int], spans: list[tuple[int, int]], vector: np.ndarray, mode: Mode
) -> list[tuple[float, float, float, float]]:
    """Cosine of the question with each sentence, its context, its previous and next sentence."""
    if not mode.dense:
        return [(0.0, 0.0, 0.0, 0.0)] * len(ids)
    # One product per sentence in reach: the candidates' neighbours are mostly candidates.
    reach = sorted({i for lo, hi in spans for i in range(lo, hi + 1)})
    products = index.sentence_vectors[reach].astype(np.float32) @ vector
    cosine = dict(zip(reach, products.tolist(), strict=True))
    context = _context_vectors(index, spans) @ vector
    return [
        (
            cosine[sid],
            float(context[k]),
            cosine[lo] if lo < sid else 0.0,
            cosine[hi] if hi > sid else 0.0,
        )
        for k, (sid, (lo, hi)) in enumerate(zip(ids, spans, strict=True))
    ]


def _context_vectors(index: Index, spans: list[tuple[int, int]]) -> np.ndarray:
    """Unit-length mean of each sentence's vector and its neighbours' (no extra encoding)."""
    out = np.stack(
        [index.sentence_vectors[lo : hi + 1].sum(axis=0, dtype=np.float32) for lo, hi in spans]
    )
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
