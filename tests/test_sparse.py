"""BM25 over passages agrees with rank-bm25 used directly."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from rag.corpus import load_corpus
from rag.passages import passage, passage_table, passage_text, sentence_table
from rag.sparse import SparseIndex
from rag.text import tokenize

from .conftest import CORPUS


@pytest.fixture(scope="module")
def texts() -> list[str]:
    articles = load_corpus(CORPUS).articles
    sentences = sentence_table(articles)
    return [passage_text(articles, passage(articles, sentences, row))
            for row in passage_table(sentences, window=3, stride=2)]


def test_scores_match_reference(texts: list[str]) -> None:
    index = SparseIndex([tokenize(t) for t in texts])
    reference = BM25Okapi([tokenize(t) for t in texts], k1=1.2, b=0.75)
    question = "How much did Xinjiang live-streaming sales grow?"
    np.testing.assert_allclose(
        index.scores(question), reference.get_scores(tokenize(question)), rtol=1e-5
    )


def test_search_ranks_the_xinjiang_passage_first(texts: list[str]) -> None:
    ids, scores = SparseIndex([tokenize(t) for t in texts]).search("Xinjiang live-streaming sales 56 percent", 5)
    assert "56 percent" in texts[ids[0]]
    assert list(scores) == sorted(scores, reverse=True)


def test_no_match_and_empty_question(texts: list[str]) -> None:
    index = SparseIndex([tokenize(t) for t in texts])
    assert len(index.search("zzzzqqq", 5)[0]) == 0
    assert len(index.search("?!", 5)[0]) == 0
    with pytest.raises(ValueError, match="at least one"):
        SparseIndex([])
