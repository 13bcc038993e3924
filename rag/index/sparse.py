"""Okapi BM25 over passages as a precomputed sparse term-by-document matrix (scipy)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..errors import IndexCorruptError
from ..ingest.passages import Texts, passage_table, sentence_table
from ..ingest.text import tokenize
from ..ingest.tokens import TokenTable, spans
from ..settings import Settings
from ..types import Article
from .cache import Previous, token_table

EPSILON = 0.25  # rank-bm25's idf floor: negative idf becomes EPSILON * average idf
EMPTY_TOKEN = "\u2205"  # stands in for an empty document, as rank-bm25 rejects those
DOCS_PER_BLOCK = 1 << 16  # documents counted per step: bounds the build's temporary arrays
ARRAYS = ("bm25_indptr", "bm25_docs", "bm25_weights", "bm25_idf")

# A document given as segments: for each document, where its ids start and how many there are.
Segment = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class Statistics:
    """What a BM25 score needs beyond its own document: each word's document frequency, the
    number of documents and their summed length. Shards that share one corpus's statistics
    score exactly as one index over the whole corpus would."""

    words: tuple[str, ...]
    df: np.ndarray  # int64, documents holding each word
    documents: int
    length: int  # summed document length (an empty document counts 1)

    @classmethod
    def combine(cls, parts: Iterable[Statistics]) -> Statistics:
        """The statistics of the documents of all `parts` together."""
        position: dict[str, int] = {}
        df: list[int] = []
        documents = length = 0
        for part in parts:
            for word, count in zip(part.words, part.df.tolist(), strict=True):
                at = position.setdefault(word, len(df))
                if at == len(df):
                    df.append(0)
                df[at] += count
            documents, length = documents + part.documents, length + part.length
        return cls(tuple(position), np.asarray(df, dtype=np.int64), documents, length)

    def idf(self) -> np.ndarray:
        """rank-bm25's idf per word: a negative idf becomes EPSILON times the mean raw idf."""
        idf = np.log(self.documents - self.df + 0.5) - np.log(self.df + 0.5)
        # fsum: the mean is exact, so it does not depend on the order of the words.
        idf[idf < 0] = EPSILON * math.fsum(idf.tolist()) / max(len(idf), 1)
        return idf

    def digest(self) -> str:
        """A hash that two shards compare to know they were built on the same statistics."""
        digest = hashlib.sha256(f"{self.documents} {self.length}\n".encode())
        order = sorted(range(len(self.words)), key=self.words.__getitem__)
        for i in order:
            digest.update(f"{self.words[i]}\t{int(self.df[i])}\n".encode())
        return digest.hexdigest()


class SparseIndex:
    """Okapi BM25 over documents given as `tokenize` output; `search` returns (ids, scores).

    Scores equal rank-bm25's `BM25Okapi(documents, k1, b, epsilon=0.25).get_scores` (same idf,
    same idf floor, repeated query terms counted repeatedly), but each term's contribution to
    each document is computed once at build time, so a query only sums the posting lists of
    its own terms instead of scoring every document in Python.
    """

    def __init__(
        self, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75
    ) -> None:
        table = TokenTable.build(documents)
        self._fit(table.words, table.ids, [(table.offsets[:-1], table.lengths())], k1, b)

    @classmethod
    def of_segments(
        cls,
        words: Sequence[str],
        ids: np.ndarray,
        segments: Sequence[Segment],
        *,
        k1: float = 1.2,
        b: float = 0.75,
        statistics: Statistics | None = None,
    ) -> SparseIndex:
        """Documents made of runs of `ids` (a passage: its title's ids, then its sentences').

        `statistics`, a whole corpus's (see `statistics`), scores these documents as part of it.
        """
        self = cls.__new__(cls)
        self._fit(words, ids, segments, k1, b, statistics)
        return self

    @staticmethod
    def statistics(
        words: Sequence[str], ids: np.ndarray, segments: Sequence[Segment]
    ) -> Statistics:
        """The BM25 statistics of these documents alone."""
        return _count(words, ids, segments).statistics

    @classmethod
    def from_arrays(
        cls, words: Sequence[str], arrays: Mapping[str, np.ndarray], size: int
    ) -> SparseIndex:
        """The index that `arrays()` saved, over `size` documents."""
        self = cls.__new__(cls)
        self.words = list(words)
        self._indptr, self._docs, self._weights, self._idf = (arrays[name] for name in ARRAYS)
        if not len(self._indptr) == len(self._idf) + 1 == len(self.words) + 1 or (
            len(self._docs) != len(self._weights) or self._indptr[-1] != len(self._docs)
        ):
            raise IndexCorruptError("stored BM25 arrays disagree in size")
        self._vocabulary = {word: i for i, word in enumerate(self.words)}
        self._size = size
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        """What `from_arrays` needs besides `words`."""
        return dict(zip(ARRAYS, (self._indptr, self._docs, self._weights, self._idf), strict=True))

    def _fit(
        self,
        words: Sequence[str],
        ids: np.ndarray,
        segments: Sequence[Segment],
        k1: float,
        b: float,
        statistics: Statistics | None = None,
    ) -> None:
        counts = _count(words, ids, segments)
        stats = statistics or counts.statistics
        self.words = list(counts.statistics.words)
        if stats is counts.statistics:
            idf = stats.idf()
        else:
            at = {word: i for i, word in enumerate(stats.words)}
            missing = [word for word in self.words if word not in at]
            if missing:
                raise ValueError(f"the statistics lack {len(missing)} words, e.g. {missing[0]!r}")
            idf = stats.idf()[[at[word] for word in self.words]]
        per_doc, tf, term_of_entry = counts.per_doc, counts.tf, counts.terms
        n_docs = len(per_doc)
        norm = k1 * (1 - b + b * counts.lengths / (stats.length / stats.documents))
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(per_doc, out=indptr[1:])
        weights = np.empty(len(tf), dtype=np.float32)
        for lo in range(0, n_docs, DOCS_PER_BLOCK):
            hi = min(n_docs, lo + DOCS_PER_BLOCK)
            a, z = indptr[lo], indptr[hi]
            doc = np.repeat(np.arange(lo, hi), per_doc[lo:hi])
            freq = tf[a:z].astype(np.float64)
            # float32 halves the memory; scores stay within 1e-6 relative of rank-bm25's float64.
            weights[a:z] = idf[term_of_entry[a:z]] * (freq * (k1 + 1) / (freq + norm[doc]))
        del counts, tf
        by_term = sparse.csr_matrix(
            (weights, term_of_entry, indptr), shape=(n_docs, len(self.words))
        ).tocsc()
        self._indptr = by_term.indptr.astype(np.int64)
        self._docs = by_term.indices.astype(np.int32)
        self._weights = by_term.data
        self._idf = idf
        self._vocabulary = {word: i for i, word in enumerate(self.words)}
        self._size = n_docs

    def __len__(self) -> int:
        return self._size

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token, 0 for tokens never seen."""
        term = self._vocabulary.get(token)
        return 0.0 if term is None else float(self._idf[term])

    def score_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every text for query tokens; a repeated token counts each time."""
        counts: dict[int, int] = {}
        for token in tokens:
            term = self._vocabulary.get(token)
            if term is not None:
                counts[term] = counts.get(term, 0) + 1
        scores = np.zeros(self._size, dtype=np.float64)
        for term, count in counts.items():
            lo, hi = self._indptr[term], self._indptr[term + 1]
            docs = self._docs[lo:hi]
            # Fancy-index add is safe: a posting list holds each document once.
            scores[docs] += count * self._weights[lo:hi]
        return scores

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every text for the question."""
        tokens = tokenize(question)
        return self.score_tokens(tokens).astype(np.float32)

    def search(
        self, question: str, limit: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `limit` best-scoring texts with a positive score, best first; only those
        `allowed` marks (a boolean per text) when it is given."""
        scores = self.score_tokens(tokenize(question)).astype(np.float32)
        # Only documents holding a query term score above 0; rank among those alone.
        found = scores > 0
        candidates = np.flatnonzero(found if allowed is None else found & allowed)
        limit = min(max(limit, 0), len(candidates))
        if limit == 0:
            return candidates[:0], scores[candidates[:0]]
        part = scores[candidates]
        if limit < len(part):
            keep = np.argpartition(-part, limit - 1)[:limit]
            candidates, part = candidates[keep], part[keep]
        # Ties break by document id, so results never depend on argpartition's order.
        order = np.lexsort((candidates, -part))
        top = candidates[order]
        return top, scores[top]


@dataclass(frozen=True, eq=False)
class _Counts:
    """Term frequencies of documents, document-major, and what they say about the corpus."""

    terms: np.ndarray  # int32 word id of each (document, word) entry
    tf: np.ndarray  # float32 its count
    per_doc: np.ndarray  # int64 entries per document
    lengths: np.ndarray  # int64 document lengths (an empty document counts 1)
    statistics: Statistics


def _count(words: Sequence[str], ids: np.ndarray, segments: Sequence[Segment]) -> _Counts:
    n_docs = len(segments[0][0])
    if n_docs == 0:
        raise ValueError("SparseIndex needs at least one document")
    lengths = sum(np.asarray(length, dtype=np.int64) for _, length in segments)
    empty = np.flatnonzero(lengths == 0)
    words = tuple(words) + ((EMPTY_TOKEN,) if len(empty) else ())
    n_terms = len(words)
    terms, counts, per_doc = [], [], np.zeros(n_docs, dtype=np.int64)
    for lo in range(0, n_docs, DOCS_PER_BLOCK):
        hi = min(n_docs, lo + DOCS_PER_BLOCK)
        local = np.arange(hi - lo)
        term_parts = [ids[spans(start[lo:hi], length[lo:hi])] for start, length in segments]
        doc_parts = [np.repeat(local, length[lo:hi]) for _, length in segments]
        blank = empty[(empty >= lo) & (empty < hi)]
        term_parts.append(np.full(len(blank), n_terms - 1))
        doc_parts.append(blank - lo)
        # (document, term) pairs, sorted and counted: term frequencies, document-major.
        keys, tf = np.unique(
            np.concatenate(doc_parts).astype(np.int64) * n_terms + np.concatenate(term_parts),
            return_counts=True,
        )
        terms.append((keys % n_terms).astype(np.int32))
        counts.append(tf.astype(np.float32))
        per_doc[lo:hi] = np.bincount(keys // n_terms, minlength=hi - lo)
    term_of_entry = np.concatenate(terms)
    lengths[empty] = 1
    df = np.bincount(term_of_entry, minlength=n_terms).astype(np.int64)
    stats = Statistics(words, df, n_docs, int(lengths.sum()))
    return _Counts(term_of_entry, np.concatenate(counts), per_doc, lengths, stats)


def bm25_statistics(articles: Sequence[Article], settings: Settings) -> Statistics:
    """The BM25 statistics of the passages of `articles` (a shard's part of its corpus's)."""
    sentences = sentence_table(articles)
    passages = passage_table(sentences, window=settings.window, stride=settings.stride)
    no_keys = np.zeros((len(sentences), 0), dtype=np.uint8)  # nothing previous to look up
    tokens = token_table(articles, Texts(articles, sentences, None), Previous.none(), no_keys)
    return SparseIndex.statistics(
        tokens.words, tokens.ids, passage_segments(tokens, sentences, passages)
    )


def passage_segments(
    tokens: TokenTable, sentences: np.ndarray, passages: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each passage for BM25: its article's title, then its sentences (contiguous rows)."""
    title_rows = len(sentences) + sentences[passages[:, 0], 0]
    first, stop = tokens.offsets[passages[:, 0]], tokens.offsets[passages[:, 1] + 1]
    title = tokens.offsets[title_rows]
    return [(title, tokens.offsets[title_rows + 1] - title), (first, stop - first)]
