"""Content keys and what the previous index computed, so a rebuild never embeds a text twice."""

from __future__ import annotations

import hashlib
import logging
import mmap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ..errors import IndexCorruptError
from ..ingest.passages import Texts
from ..ingest.text import tokenize
from ..ingest.tokens import TokenTable
from ..types import Article
from .store import load, read_manifest

log = logging.getLogger(__name__)

KEY_BYTES = 16  # BLAKE2b-128: collisions among even a billion texts are beyond reach
# Texts per encode call, and rows per copy: the model's output for a chunk is copied into place
# at once, so a million texts never hold two full copies of their vectors.
ENCODE_CHUNK = 8192


def content_keys(texts: Sequence[str]) -> np.ndarray:
    """One key per text, as a (len(texts), KEY_BYTES) uint8 array: a digest of its UTF-8."""
    digests = b"".join(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES).digest()
        for text in texts
    )
    return np.frombuffer(digests, dtype=np.uint8).reshape(len(texts), KEY_BYTES).copy()


@dataclass(frozen=True)
class Previous:
    """What the index generation in use computed, found by content key with `find`.

    Arrays stay memory-mapped: only the rows a rebuild copies are ever read.
    """

    keys: np.ndarray  # (texts, KEY_BYTES): its passages' keys, then its sentences'
    passages: int  # how many of `keys` are passages
    dense: faiss.Index | None = None  # passage vectors (and trained cells); None: other model
    sentence_vectors: np.ndarray | None = None  # None: other model
    tokens: TokenTable | None = None  # its sentences' rows, then its titles'; None: other tokenizer
    documents: dict[str, Any] = field(default_factory=dict)  # its annotations, by name

    @classmethod
    def none(cls) -> Previous:
        return cls(np.zeros((0, KEY_BYTES), dtype=np.uint8), 0)

    @classmethod
    def of_index(
        cls,
        index_dir: Path | None,
        model: str,
        tokenizer: str,
        generation: str | None = None,
        documents: Sequence[str] = (),
    ) -> Previous:
        """Embeddings when the index used the same model, tokens when the same tokenizer, and
        the `documents` it stored (annotations, `rag.index.annotations`).

        A missing or damaged index gives nothing to reuse: the build then starts from scratch.
        `generation` names the generation to reuse (a shard's), else the current one.
        """
        manifest = None if index_dir is None else read_manifest(index_dir, generation)
        if manifest is None:
            return cls.none()
        same_model = manifest.get("model") == model
        same_tokenizer = manifest.get("tokenizer") == tokenizer
        if not (same_model or same_tokenizer):
            return cls.none()
        parts = ["text_keys", "sentences"]
        parts += ["passages", "sentence_vectors"] if same_model else []
        parts += ["vocabulary", "token_ids", "token_offsets"] if same_tokenizer else []
        parts += list(documents)
        try:
            stored = load(index_dir, parts, generation=generation)
            keys = stored.arrays["text_keys"]
            passages = len(keys) - len(stored.arrays["sentences"])
            dense = sentence_vectors = tokens = None
            if same_model:
                dense = stored.vectors["passages"]
                if isinstance(dense, faiss.IndexIVF):
                    dense.make_direct_map()  # an inverted file finds vectors by id only with it
                sentence_vectors = stored.arrays["sentence_vectors"]
            if same_tokenizer:
                tokens = TokenTable(
                    stored.documents["vocabulary"],
                    stored.arrays["token_ids"],
                    stored.arrays["token_offsets"],
                )
        except KeyError as exc:  # written by an older version, before this cache existed
            log.warning("not reusing the previous index: it has no %r part", exc.args[0])
            return cls.none()
        except (IndexCorruptError, TypeError, ValueError, RuntimeError) as exc:
            log.warning("not reusing the previous index: %s", exc)
            return cls.none()
        stored_documents = {name: stored.documents.get(name) for name in documents}
        return cls(keys, passages, dense, sentence_vectors, tokens, stored_documents)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """For each key, a row of `self.keys` holding it, or -1 where it is new."""
        if len(self.keys) == 0 or len(keys) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        old, new = _halves(self.keys), _halves(keys)
        # Sorted on the first 64 bits, then checked on all 128: no dict of millions of keys.
        order = np.argsort(old[:, 0], kind="stable")
        at = np.minimum(np.searchsorted(old[order, 0], new[:, 0]), len(order) - 1)
        found = order[at]
        return np.where((old[found] == new).all(axis=1), found, -1)

    def for_sentences(self) -> Previous:
        """What is left to reuse once the passages are embedded: sentences only.

        The old passage index (the largest part at a million passages) can then be freed.
        """
        return replace(self, keys=self.keys[self.passages :], passages=0, dense=None)

    def token_rows(self, found: np.ndarray) -> np.ndarray:
        """`find` rows turned into rows of `self.tokens` (sentences only), -1 where none."""
        if self.tokens is None:
            return np.full(len(found), -1, dtype=np.int64)
        return np.where(found >= self.passages, found - self.passages, -1)

    def embed(
        self,
        texts: Sequence[str],
        keys: np.ndarray,
        encode: Callable[[list[str]], np.ndarray],
        dimension: int,
        *,
        dtype: type = np.float32,
        total: Callable[[int], object] = lambda count: None,
    ) -> tuple[np.ndarray, int]:
        """Vectors for `texts`, encoding only those not seen before: (vectors, how many encoded).

        Repeated texts are encoded once, in order of first appearance; `total` is told how many
        before the first is (a progress bar's total).
        """
        out = np.empty((len(texts), dimension), dtype=dtype)
        found = self.find(keys) if self.sentence_vectors is not None else np.full(len(texts), -1)
        copied = np.flatnonzero(found >= 0)
        for lo in range(0, len(copied), ENCODE_CHUNK):
            rows = copied[lo : lo + ENCODE_CHUNK]
            out[rows] = self._vectors(found[rows])
        missing = np.flatnonzero(found < 0)
        if len(missing) == 0:
            return out, 0
        _, first, group = np.unique(
            keys[missing].view(np.dtype((np.void, KEY_BYTES))).ravel(),
            return_index=True,
            return_inverse=True,
        )
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first)] = np.arange(len(first))
        group = rank[group.ravel()]  # texts numbered by first appearance
        order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[order], np.arange(len(first) + 1))
        firsts = np.sort(first)
        total(len(first))
        for lo in range(0, len(first), ENCODE_CHUNK):
            hi = min(lo + ENCODE_CHUNK, len(first))
            encoded = encode([texts[int(missing[i])] for i in firsts[lo:hi]])
            rows = order[bounds[lo] : bounds[hi]]
            out[missing[rows]] = encoded[group[rows] - lo]
        return out, len(first)

    def _vectors(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), self.sentence_vectors.shape[1]), dtype=np.float32)
        passage = rows < self.passages
        if passage.any():
            out[passage] = self.dense.reconstruct_batch(rows[passage])
        out[~passage] = self.sentence_vectors[rows[~passage] - self.passages]
        release(self.sentence_vectors)
        return out


def release(array: np.ndarray) -> None:
    """Drop the pages of a memory-mapped array from this process once read.

    They stay in the page cache, so nothing is read twice from disk, but they stop counting
    towards this process's memory: copying 1.6 GB of old vectors no longer holds 1.6 GB.
    """
    mapping = getattr(array, "_mmap", None)  # np.memmap's own mapping; slices share it
    if mapping is not None:
        mapping.madvise(mmap.MADV_DONTNEED)


def _halves(keys: np.ndarray) -> np.ndarray:
    """Keys as (n, 2) uint64: compared and sorted as numbers, not bytes."""
    return np.ascontiguousarray(keys, dtype=np.uint8).view(np.uint64).reshape(len(keys), 2)


def token_table(
    articles: Sequence[Article], sentence_texts: Texts, previous: Previous, keys: np.ndarray
) -> TokenTable:
    """Each sentence's tokens (copied from `previous` when it has the text), then each title's."""
    count = len(sentence_texts)
    source = np.full(count + len(articles), -1, dtype=np.int64)
    source[:count] = previous.token_rows(previous.find(keys))

    def tokens_of(row: int) -> list[str]:
        text = sentence_texts[row] if row < count else articles[row - count].title
        return tokenize(text)

    return TokenTable.assemble(len(source), previous.tokens, source, tokens_of)


def article_keys(articles: Sequence[Article]) -> list[tuple[str, str]]:
    """(doc_id, SHA-256 of the exact text) of each article: offsets hold only for that text."""
    return [(a.doc_id, hashlib.sha256(a.text.encode()).hexdigest()) for a in articles]
