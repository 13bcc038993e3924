"""BM25 over passages, with rank-bm25 as the engine."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from .text import tokenize


class SparseIndex:
    """Okapi BM25 over documents given as `tokenize` output; `search` returns (ids, scores)."""

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        if not documents:
            raise ValueError("SparseIndex needs at least one document")
        corpus = [list(tokens) or ["\u2205"] for tokens in documents]  # BM25Okapi rejects empty docs
        self._bm25 = BM25Okapi(corpus, k1=k1, b=b)

    def __len__(self) -> int:
        return self._bm25.corpus_size

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token, 0 for tokens never seen."""
        return float(self._bm25.idf.get(token, 0.0))

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every text for the question."""
        tokens = tokenize(question)
        if not tokens:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def search(self, question: str, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """The `limit` best-scoring texts with a positive score, best first."""
        scores = self.scores(question)
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top, scores[top]
