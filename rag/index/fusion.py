"""Reciprocal rank fusion of ranked lists, a pure function."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Ranking = tuple[np.ndarray, np.ndarray]  # passage ids, best first, and their scores
RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of the very top ranks


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], *, k: int = RRF_K, limit: int | None = None
) -> list[tuple[int, float]]:
    """Fuse ranked id lists into one: score(id) = sum over lists of 1 / (k + rank), rank from 1.

    Ties keep the order in which ids were first seen, so results are deterministic.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    fused = sorted(scores.items(), key=lambda pair: -pair[1])
    return fused if limit is None else fused[:limit]


def fuse(rankings: Sequence[Ranking], limit: int) -> list[tuple[int, float]]:
    """The `limit` best passages by reciprocal rank fusion, weighted relative to the best."""
    fused = reciprocal_rank_fusion([ids.tolist() for ids, _ in rankings], limit=limit)
    top = fused[0][1] if fused else 1.0
    return [(pid, value / top) for pid, value in fused]
