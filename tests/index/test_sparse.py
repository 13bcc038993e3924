"""BM25 over passages agrees with rank-bm25 used directly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from rag.index.sparse import SparseIndex
from rag.ingest.corpus import load_corpus
from rag.ingest.passages import passage, passage_table, passage_text, sentence_table
from rag.ingest.text import tokenize

from ..conftest import CORPUS


@pytest.fixture(scope="module")
def texts() -> list[str]:
    articles = load_corpus(CORPUS).articles
    sentences = sentence_table(articles)
    return [
        passage_text(articles, passage(articles, sentences, row))
        for row in passage_table(sentences, window=3, stride=2)
    ]


def test_scores_match_reference(texts: list[str]) -> None:
    index = SparseIndex([tokenize(t) for t in texts])
    reference = BM25Okapi([tokenize(t) for t in texts], k1=1.2, b=0.75)
    question = "How much did Xinjiang live-streaming sales grow?"
    np.testing.assert_allclose(
        index.scores(question), reference.get_scores(tokenize(question)), rtol=1e-5
    )


def test_search_ranks_the_xinjiang_passage_first(texts: list[str]) -> None:
    index = SparseIndex([tokenize(t) for t in texts])
    ids, scores = index.search("Xinjiang live-streaming sales 56 percent", 5)
    assert "56 percent" in texts[ids[0]]
    assert list(scores) == sorted(scores, reverse=True)


def test_no_match_and_empty_question(texts: list[str]) -> None:
    index = SparseIndex([tokenize(t) for t in texts])
    assert len(index.search("zzzzqqq", 5)[0]) == 0
    assert len(index.search("?!", 5)[0]) == 0
    with pytest.raises(ValueError, match="at least one"):
        SparseIndex([])


def test_idf_floor_and_repeated_terms_match_reference() -> None:
    # "common" is in more than half the documents: rank-bm25 floors its negative idf at
    # 0.25 * mean idf; a repeated query term counts once per repetition.
    docs = [["common", "apple"], ["common", "pear", "pear"], ["common"], ["plum"], []]
    index = SparseIndex(docs)
    reference = BM25Okapi([d or ["\u2205"] for d in docs], k1=1.2, b=0.75)
    for token in ("common", "apple", "pear", "plum"):
        assert index.idf(token) == pytest.approx(reference.idf[token], rel=1e-9)
    assert index.idf("never-seen") == 0.0
    for query in (["common"], ["pear", "pear", "common"], ["plum", "apple", "banana"]):
        np.testing.assert_allclose(
            index.score_tokens(query), reference.get_scores(query), rtol=1e-6
        )


def test_every_question_of_the_gold_set_ranks_like_the_reference(texts: list[str]) -> None:
    index = SparseIndex([tokenize(t) for t in texts])
    reference = BM25Okapi([tokenize(t) or ["\u2205"] for t in texts], k1=1.2, b=0.75)
    lines = (CORPUS / "gold_qa.jsonl").read_text().splitlines()
    for line in lines:
        question = json.loads(line)["question"]
        expected = np.asarray(reference.get_scores(tokenize(question)), dtype=np.float32)
        np.testing.assert_allclose(index.scores(question), expected, rtol=1e-5, atol=1e-6)
        ids, scores = index.search(question, 10)
        positive = np.flatnonzero(expected > 0)
        best = positive[np.lexsort((positive, -expected[positive]))][:10]
        np.testing.assert_allclose(scores, expected[best], rtol=1e-5)
        assert set(ids.tolist()) == set(best.tolist()) or np.allclose(
            np.sort(expected[ids]), np.sort(expected[best]), rtol=1e-5
        )


def test_search_breaks_ties_by_id_and_respects_limit() -> None:
    index = SparseIndex([["a", "b"], ["b", "a"], ["c"], ["a", "b"], ["d"], ["e"], ["f"], ["g"]])
    ids, scores = index.search("a b", 10)
    assert ids.tolist() == [0, 1, 3] and len(set(scores.tolist())) == 1
    assert index.search("a b", 2)[0].tolist() == [0, 1]
    assert len(index.search("a", 0)[0]) == 0
    assert len(index) == 8


def test_the_assistants_passage_index_matches_reference_and_survives_a_reload(
    fake_embedder, tmp_path
) -> None:
    from rag.assistant import Assistant

    built = Assistant.from_corpus(CORPUS, tmp_path / "index", embedder=fake_embedder)
    # A passage for BM25 is its article's title, then its sentences: built from token ids.
    documents = [
        list(tokenize(built.articles[int(built.index.sentences[first, 0])].title))
        + [t for sid in range(first, last + 1) for t in tokenize(built.index.sentence_text(sid))]
        for first, last in built.index.passages.tolist()
    ]
    reference = BM25Okapi([d or ["\u2205"] for d in documents], k1=1.2, b=0.75)
    reloaded = Assistant.from_corpus(CORPUS, tmp_path / "index", embedder=fake_embedder)
    assert not reloaded.build_report.rebuilt
    for line in (CORPUS / "gold_qa.jsonl").read_text().splitlines():
        question = json.loads(line)["question"]
        expected = np.asarray(reference.get_scores(tokenize(question)), dtype=np.float32)
        np.testing.assert_allclose(
            built.index.sparse.scores(question), expected, rtol=1e-5, atol=1e-6
        )
        np.testing.assert_array_equal(
            reloaded.index.sparse.scores(question), built.index.sparse.scores(question)
        )
