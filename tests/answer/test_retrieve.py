"""Retrieval: the fused passages' sentences as candidates, with their context and offsets."""

from __future__ import annotations

import numpy as np

from rag.settings import Mode, Settings

QUESTION = "How much did Xinjiang live-streaming sales grow?"


def test_candidates_carry_their_sentence_its_neighbours_and_offsets(assistant) -> None:
    index = assistant.index
    vector = assistant.embedder.encode([QUESTION])[0]
    found = index.candidates(QUESTION, vector, Mode.HYBRID, Settings())
    assert any("56 percent" in c.text for c in found)
    for c in found:
        article = index.articles[c.doc]
        assert article.text[c.start : c.end] == c.text == index.sentence_text(c.sentence)
        lo, hi = index.neighbours(c.sentence)
        assert c.previous == (index.sentence_text(lo) if lo < c.sentence else "")
        assert c.next == (index.sentence_text(hi) if hi > c.sentence else "")
        assert c.title == article.title and 0 < c.passage <= 1


def test_bm25_mode_reads_no_vectors(assistant) -> None:
    found = assistant.index.candidates(QUESTION, np.zeros(1, np.float32), Mode.BM25, Settings())
    assert found and all(c.dense == c.context_dense == 0.0 for c in found)
