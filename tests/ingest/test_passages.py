"""Sentence tables and sentence windows."""

from __future__ import annotations

import numpy as np

from rag.ingest.corpus import load_corpus
from rag.ingest.passages import Texts, passage, passage_table, passage_text, sentence_table
from rag.types import Article

from ..conftest import CORPUS

ARTICLES = (
    Article("a", "One. Two. Three. Four. Five.", title="First"),
    Article("b", "Alpha. Beta.", title=""),
)


def test_sentence_table_rows_point_into_articles() -> None:
    table = sentence_table(ARTICLES)
    assert table.shape == (7, 3)
    assert [ARTICLES[d].text[s:e] for d, s, e in table] == [
        "One.",
        "Two.",
        "Three.",
        "Four.",
        "Five.",
        "Alpha.",
        "Beta.",
    ]


def test_windows_cover_every_sentence_and_never_cross_articles() -> None:
    sentences = sentence_table(ARTICLES)
    table = passage_table(sentences, window=3, stride=2)
    assert table.tolist() == [[0, 2], [2, 4], [5, 6]]
    covered = {s for first, last in table for s in range(first, last + 1)}
    assert covered == set(range(len(sentences)))
    for first, last in table:
        assert sentences[first, 0] == sentences[last, 0]


def test_passage_text_has_title_then_window() -> None:
    sentences = sentence_table(ARTICLES)
    rows = passage_table(sentences, window=2, stride=2)
    first = passage(ARTICLES, sentences, rows[0])
    assert (first.start, first.end) == (0, 9)
    assert passage_text(ARTICLES, first) == "First\nOne. Two."
    last = passage(ARTICLES, sentences, rows[-1])
    assert passage_text(ARTICLES, last) == "Alpha. Beta."
    assert passage_table(np.zeros((0, 3), dtype=np.int64), window=3, stride=2).shape == (0, 2)


def test_texts_are_made_on_access_and_match_the_tables() -> None:
    articles = load_corpus(CORPUS).articles
    sentences = sentence_table(articles)
    passages = passage_table(sentences, window=3, stride=2)
    texts, sentence_texts = Texts(articles, sentences, passages), Texts(articles, sentences, None)
    assert len(texts) == len(passages) and len(sentence_texts) == len(sentences)
    expected = [passage_text(articles, passage(articles, sentences, row)) for row in passages]
    assert list(texts) == expected and texts[1:3] == expected[1:3] and texts[-1] == expected[-1]
    assert list(sentence_texts) == [articles[d].text[s:e] for d, s, e in sentences]
