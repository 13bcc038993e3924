"""Sentence tables and the sentence windows (passages) that retrieval ranks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np

from ..types import Article, Passage
from .text import split_sentences


def sentence_table(articles: Sequence[Article]) -> np.ndarray:
    """Every sentence of every article as rows of (doc_index, start, end), in reading order."""
    rows = [
        (doc, start, end)
        for doc, article in enumerate(articles)
        for start, end in split_sentences(article.text)
    ]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def passage_table(sentences: np.ndarray, *, window: int, stride: int) -> np.ndarray:
    """Windows of `window` sentences every `stride` sentences, never crossing articles.

    Rows are (first_sentence, last_sentence), inclusive; the last window of an article is
    kept whole, so every sentence belongs to at least one passage.
    """
    rows: list[tuple[int, int]] = []
    docs = sentences[:, 0]
    boundaries = np.flatnonzero(np.diff(docs)) + 1
    for first, stop in zip(np.r_[0, boundaries], np.r_[boundaries, len(docs)], strict=True):
        first, stop = int(first), int(stop)
        for start in range(first, stop, stride):
            end = min(start + window, stop)
            rows.append((start, end - 1))
            if end == stop:
                break
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def passage(articles: Sequence[Article], sentences: np.ndarray, row: np.ndarray) -> Passage:
    """The Passage for one row of the passage table."""
    first, last = int(row[0]), int(row[1])
    doc = int(sentences[first, 0])
    return Passage(doc, int(sentences[first, 1]), int(sentences[last, 2]), first, last)


class Texts(Sequence[str]):
    """The text of each passage (as retrieval sees it) or sentence, made when read.

    A million passages' texts held at once would take about 1 GB; built on access, only the
    ones being encoded or hashed exist at any time.
    """

    def __init__(
        self, articles: Sequence[Article], sentences: np.ndarray, passages: np.ndarray | None
    ) -> None:
        self._articles = articles
        self._sentences = sentences
        self._passages = passages  # None: the sentences themselves

    def __len__(self) -> int:
        return len(self._sentences if self._passages is None else self._passages)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if self._passages is None:
            doc, start, end = self._sentences[index]
            return self._articles[int(doc)].text[int(start) : int(end)]
        row = passage(self._articles, self._sentences, self._passages[index])
        return passage_text(self._articles, row)


def passage_text(articles: Sequence[Article], item: Passage) -> str:
    """What retrieval sees: the article title, then the window's text."""
    article = articles[item.doc_index]
    body = article.text[item.start : item.end]
    return f"{article.title}\n{body}" if article.title else body
