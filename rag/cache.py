"""Content keys and packed tokens, so that a rebuild never embeds or tokenizes a text twice."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexCorruptError
from .store import load, read_manifest

log = logging.getLogger(__name__)

KEY_BYTES = 16  # BLAKE2b-128: collisions among even a billion texts are beyond reach

Tokens = tuple[str, ...]


def content_keys(texts: Sequence[str]) -> np.ndarray:
    """One key per text, as a (len(texts), KEY_BYTES) uint8 array: a digest of its UTF-8."""
    digests = b"".join(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES).digest()
        for text in texts
    )
    return np.frombuffer(digests, dtype=np.uint8).reshape(len(texts), KEY_BYTES).copy()


def pack_tokens(tokens: Sequence[Tokens]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Token lists as (vocabulary, token ids, offsets): plain arrays that load without pickle."""
    vocabulary: dict[str, int] = {}
    ids = np.fromiter(
        (vocabulary.setdefault(t, len(vocabulary)) for row in tokens for t in row), dtype=np.int32
    )
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in tokens], out=offsets[1:])
    return list(vocabulary), ids, offsets


def unpack_tokens(vocabulary: Sequence[str], ids: np.ndarray, offsets: np.ndarray) -> list[Tokens]:
    """The inverse of `pack_tokens`; IndexCorruptError when the arrays do not fit together."""
    if (
        offsets.ndim != 1
        or len(offsets) == 0
        or offsets[0] != 0
        or offsets[-1] != len(ids)
        or np.any(np.diff(offsets) < 0)
        or (len(ids) and (ids.min() < 0 or ids.max() >= len(vocabulary)))
    ):
        raise IndexCorruptError("stored tokens do not match their offsets or vocabulary")
    words = np.asarray(vocabulary, dtype=object)
    every = words[ids].tolist()
    bounds = offsets.tolist()
    return [tuple(every[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


@dataclass(frozen=True)
class Previous:
    """What the index generation in use computed, found by content key."""

    vectors: dict[bytes, np.ndarray]
    tokens: dict[bytes, Tokens]

    @classmethod
    def none(cls) -> Previous:
        return cls({}, {})

    @classmethod
    def of_index(cls, index_dir: Path | None, model: str, tokenizer: str) -> Previous:
        """Embeddings when the index used the same model, tokens when the same tokenizer.

        A missing or damaged index gives nothing to reuse: the build then starts from scratch.
        """
        manifest = read_manifest(index_dir) if index_dir is not None else None
        if manifest is None:
            return cls.none()
        same_model, same_tokenizer = (
            manifest.get("model") == model,
            (manifest.get("tokenizer") == tokenizer),
        )
        if not (same_model or same_tokenizer):
            return cls.none()
        try:
            stored = load(index_dir)
            keys = [bytes(row) for row in stored.arrays["text_keys"]]
            vectors: dict[bytes, np.ndarray] = {}
            if same_model:
                index = stored.vectors["passages"]
                found = np.vstack(
                    [index.reconstruct_n(0, index.ntotal), stored.arrays["sentence_vectors"]]
                )
                vectors = dict(zip(keys, found, strict=True))
            tokens: dict[bytes, Tokens] = {}
            if same_tokenizer:
                rows = unpack_tokens(
                    stored.documents["vocabulary"],
                    stored.arrays["token_ids"],
                    stored.arrays["token_offsets"],
                )
                tokens = dict(zip(keys[len(keys) - len(rows) :], rows, strict=True))
        except (IndexCorruptError, KeyError, TypeError, ValueError, RuntimeError) as exc:
            log.warning("not reusing the previous index: %s", exc)
            return cls.none()
        return cls(vectors, tokens)

    def embed(
        self,
        texts: Sequence[str],
        keys: np.ndarray,
        encode: Callable[[list[str]], np.ndarray],
        dimension: int,
    ) -> tuple[np.ndarray, int]:
        """Vectors for `texts`, encoding only those not seen before: (vectors, how many encoded).

        Repeated texts are encoded once.
        """
        out = np.empty((len(texts), dimension), dtype=np.float32)
        missing: dict[bytes, list[int]] = {}
        for row, key in enumerate(map(bytes, keys)):
            found = self.vectors.get(key)
            if found is not None:
                out[row] = found
            else:
                missing.setdefault(key, []).append(row)
        if missing:
            rows = list(missing.values())
            encoded = encode([texts[group[0]] for group in rows])
            for group, vector in zip(rows, encoded, strict=True):
                out[group] = vector
        return out, len(missing)

    def tokenize(
        self, texts: Sequence[str], keys: np.ndarray, tokenize: Callable[[str], list[str]]
    ) -> list[Tokens]:
        """Tokens for `texts`, tokenizing only those not seen before."""
        return [
            self.tokens.get(key) or tuple(tokenize(text))
            for text, key in zip(texts, map(bytes, keys), strict=True)
        ]
