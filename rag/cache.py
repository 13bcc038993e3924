"""Content keys and packed tokens, so that a rebuild never embeds or tokenizes a text twice."""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .errors import IndexCorruptError
from .store import load, read_manifest

log = logging.getLogger(__name__)

KEY_BYTES = 16  # BLAKE2b-128: collisions among even a billion texts are beyond reach
# Texts per encode call: the model's output for a chunk is copied into place at once, so a
# million texts never hold two full copies of their vectors.
ENCODE_CHUNK = 8192

Tokens = tuple[str, ...]


def content_keys(texts: Sequence[str]) -> np.ndarray:
    """One key per text, as a (len(texts), KEY_BYTES) uint8 array: a digest of its UTF-8."""
    digests = b"".join(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES).digest()
        for text in texts
    )
    return np.frombuffer(digests, dtype=np.uint8).reshape(len(texts), KEY_BYTES).copy()


def pack_tokens(tokens: Sequence[Tokens]) -> list[str]:
    """Each sentence's tokens joined by spaces, for JSON: no token holds white space."""
    return [" ".join(row) for row in tokens]


def unpack_tokens(packed: object) -> list[Tokens]:
    """The inverse of `pack_tokens`; IndexCorruptError when `packed` is not a list of strings."""
    if not isinstance(packed, list) or not all(isinstance(row, str) for row in packed):
        raise IndexCorruptError("stored tokens are not a list of strings")
    # Interned: each distinct token is stored once, not once per occurrence (~250 MB at 100k).
    return [tuple(map(sys.intern, row.split())) for row in packed]


@dataclass(frozen=True)
class Previous:
    """What the index generation in use computed, found by content key."""

    vectors: dict[bytes, np.ndarray]
    tokens: dict[bytes, Tokens]
    dense: faiss.Index | None = None  # its passage index, whose trained cells can be reused

    @classmethod
    def none(cls) -> Previous:
        return cls({}, {})

    @classmethod
    def of_index(cls, index_dir: Path | None, model: str, tokenizer: str) -> Previous:
        """Embeddings when the index used the same model, tokens when the same tokenizer.

        A missing or damaged index gives nothing to reuse: the build then starts from scratch.
        """
        manifest = None if index_dir is None else read_manifest(index_dir)
        if manifest is None:
            return cls.none()
        same_model = manifest.get("model") == model
        same_tokenizer = manifest.get("tokenizer") == tokenizer
        if not (same_model or same_tokenizer):
            return cls.none()
        try:
            stored = load(index_dir, ("text_keys", "passages", "sentence_vectors", "tokens"))
            keys = [bytes(row) for row in stored.arrays["text_keys"]]
            vectors: dict[bytes, np.ndarray] = {}
            index = stored.vectors["passages"] if same_model else None
            if index is not None:
                if isinstance(index, faiss.IndexIVF):
                    index.make_direct_map()  # an inverted file finds vectors by id only with it
                sentence_vectors = stored.arrays["sentence_vectors"]
                passages = len(keys) - len(sentence_vectors)
                vectors = dict(zip(keys[:passages], index.reconstruct_n(0, passages), strict=True))
                vectors.update(zip(keys[passages:], sentence_vectors, strict=True))
            tokens: dict[bytes, Tokens] = {}
            if same_tokenizer:
                rows = unpack_tokens(stored.documents["tokens"])
                tokens = dict(zip(keys[len(keys) - len(rows) :], rows, strict=True))
        except KeyError as exc:  # written by an older version, before this cache existed
            log.warning("not reusing the previous index: it has no %r part", exc.args[0])
            return cls.none()
        except (IndexCorruptError, TypeError, ValueError, RuntimeError) as exc:
            log.warning("not reusing the previous index: %s", exc)
            return cls.none()
        return cls(vectors, tokens, index)

    def embed(
        self,
        texts: Sequence[str],
        keys: np.ndarray,
        encode: Callable[[list[str]], np.ndarray],
        dimension: int,
        *,
        dtype: type = np.float32,
    ) -> tuple[np.ndarray, int]:
        """Vectors for `texts`, encoding only those not seen before: (vectors, how many encoded).

        Repeated texts are encoded once.
        """
        out = np.empty((len(texts), dimension), dtype=dtype)
        missing: dict[bytes, list[int]] = {}
        for row, key in enumerate(map(bytes, keys)):
            found = self.vectors.get(key)
            if found is not None:
                out[row] = found
            else:
                missing.setdefault(key, []).append(row)
        groups = list(missing.values())
        for lo in range(0, len(groups), ENCODE_CHUNK):
            chunk = groups[lo : lo + ENCODE_CHUNK]
            encoded = encode([texts[group[0]] for group in chunk])
            for group, vector in zip(chunk, encoded, strict=True):
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
