"""Reciprocal rank fusion on hand-computed cases."""

from __future__ import annotations

import pytest

from rag.index.fusion import reciprocal_rank_fusion


def test_scores_are_sums_of_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)


def test_order_limit_and_ties() -> None:
    assert [i for i, _ in reciprocal_rank_fusion([[1, 2, 3], [3, 1]])] == [1, 3, 2]
    # 7 and 8 tie exactly: first seen wins, so results are deterministic.
    assert [i for i, _ in reciprocal_rank_fusion([[7, 8], [8, 7]])] == [7, 8]
    assert len(reciprocal_rank_fusion([[1, 2, 3]], limit=2)) == 2


def test_empty_inputs() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], [5]]) == [(5, pytest.approx(1 / 61))]
