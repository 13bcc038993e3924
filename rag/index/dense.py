"""Sentence vectors searched with faiss: exact up to 25,000, an inverted file above."""

from __future__ import annotations

import faiss
import numpy as np

# Past IVF_THRESHOLD vectors an exact flat scan costs more than the rest of `ask` (21 ms per
# query at 100k on 2 cores), so the index becomes an inverted file: k-means cells, of which a
# query scans the NPROBE nearest. Measured on 100k synthetic MiniLM-like vectors with 200 real
# question vectors (recall@10 against flat, ms per query): 1024 cells, nprobe 32: 0.977 in
# 0.8 ms; nprobe 64: 0.993 in 1.5 ms; training 4.5 s. HNSW reached 0.990 only with M48/efC200,
# built in 38 s and rebuilt in full for every change; an inverted file keeps its trained cells,
# so a rebuild after adding an article only reassigns the vectors (`like=`). Vectors are kept
# in half precision: the same recall (0.993), half the memory, and faster (1.0 vs 1.5 ms).
IVF_THRESHOLD = 25_000
IVF_NPROBE = 64
IVF_MAX_CELLS = 2048  # k-means cost grows with cells x sample; 2048 keeps 1M to ~20 s
TRAINING_PER_CELL = 39  # k-means sample per cell: faiss's minimum, below which it warns
KINDS = ("auto", "flat", "ivf")
ADD_CHUNK = 65_536
RESCORED = 2  # faiss proposes this many times the results asked for, all scored exactly


def auto_kind(count: int) -> str:
    """The index `kind="auto"` picks for `count` vectors."""
    return "ivf" if count > IVF_THRESHOLD else "flat"


def ivf_cells(count: int) -> int:
    """Cells for `count` vectors: about 4 sqrt(count), a power of two, at most IVF_MAX_CELLS."""
    return int(min(IVF_MAX_CELLS, 2 ** round(np.log2(4 * np.sqrt(max(count, 1))))))


class DenseIndex:
    """Inner-product search over unit vectors (cosine similarity) with a faiss index.

    `kind="auto"` is exact flat search up to `IVF_THRESHOLD` vectors and an inverted file
    above. `like`, an inverted file built before on similar vectors, lends its trained cells.
    """

    def __init__(
        self, vectors: np.ndarray, *, kind: str = "auto", like: faiss.Index | None = None
    ) -> None:
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ValueError("DenseIndex needs a non-empty 2-D array of vectors")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
        if kind == "auto":
            kind = auto_kind(len(vectors))
        dimension = vectors.shape[1]
        if kind == "flat":
            self._index = faiss.IndexFlatIP(dimension)
        else:
            self._index = self._inverted_file(vectors, like)
        # Added in float32 chunks: the caller's half-precision vectors are never copied whole.
        for lo in range(0, len(vectors), ADD_CHUNK):
            self._index.add(np.ascontiguousarray(vectors[lo : lo + ADD_CHUNK], dtype=np.float32))
        _find_by_id(self._index)

    @staticmethod
    def _inverted_file(
        vectors: np.ndarray, like: faiss.Index | None
    ) -> faiss.IndexIVFScalarQuantizer:
        cells, dimension = ivf_cells(len(vectors)), vectors.shape[1]
        reusable = (
            isinstance(like, faiss.IndexIVFScalarQuantizer)
            and like.nlist == cells
            and like.d == dimension
        )
        index = faiss.IndexIVFScalarQuantizer(
            # Only the cells' centroids are copied from `like`, never its million vectors.
            faiss.clone_index(like.quantizer) if reusable else faiss.IndexFlatIP(dimension),
            dimension,
            cells,
            faiss.ScalarQuantizer.QT_fp16,
            faiss.METRIC_INNER_PRODUCT,
        )
        if reusable:
            index.is_trained = True  # half precision has nothing else to train
        else:
            rng = np.random.default_rng(0)
            sample = min(len(vectors), cells * TRAINING_PER_CELL)
            rows = np.sort(rng.choice(len(vectors), sample, replace=False))
            index.train(np.ascontiguousarray(vectors[rows], dtype=np.float32))
        index.nprobe = min(IVF_NPROBE, cells)
        return index

    @classmethod
    def from_faiss(cls, index: faiss.Index) -> DenseIndex:
        self = cls.__new__(cls)
        self._index = index
        _find_by_id(index)
        return self

    @property
    def faiss_index(self) -> faiss.Index:
        return self._index

    @property
    def kind(self) -> str:
        """Either "flat" (exact search) or "ivf" (approximate)."""
        return "ivf" if isinstance(self._index, faiss.IndexIVF) else "flat"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(
        self, query: np.ndarray, limit: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `limit` nearest vectors to one query vector: (ids, cosine scores), best first;
        only among those `allowed` marks (a boolean per vector) when it is given."""
        limit = min(limit, len(self) if allowed is None else int(allowed.sum()))
        if limit == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # faiss's float32 scores differ in their last bits with its threads and with where a
        # vector falls in a SIMD block, and the answer's trees turn such bits into other
        # answers. So faiss proposes twice as many, scored again exactly, and ranked by that:
        # one machine, a shard of it and a Ray worker (one thread) rank alike.
        _, ids = self._index.search(
            query.reshape(1, -1).astype(np.float32),
            min(len(self), RESCORED * limit),
            params=self._only(allowed),
        )
        ids = ids[0][ids[0] >= 0]
        rows = self._index.reconstruct_batch(ids).astype(np.float64)
        scores = np.einsum("ij,j->i", rows, query.astype(np.float64)).astype(np.float32)
        # Ties break by id, as BM25's do, so shards merged give the order of one index.
        order = np.lexsort((ids, -scores))[:limit]
        return ids[order], scores[order]

    def _only(self, allowed: np.ndarray | None) -> faiss.SearchParameters | None:
        """faiss search parameters that skip every vector `allowed` does not mark."""
        if allowed is None:
            return None
        bits = np.packbits(allowed, bitorder="little")
        params = (
            faiss.SearchParametersIVF(nprobe=self._index.nprobe)
            if isinstance(self._index, faiss.IndexIVF)
            else faiss.SearchParameters()
        )
        params.sel = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
        params.bits = bits  # the selector reads this array: it must live as long as params
        return params


def _find_by_id(index: faiss.Index) -> None:
    """Let an inverted file give back a vector by its id (8 bytes a vector), as flat ones do."""
    if isinstance(index, faiss.IndexIVF) and index.direct_map.type == faiss.DirectMap.NoMap:
        index.make_direct_map()


def row_dots(rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Each row's dot product with `query`, the same bits whatever the threads or row count."""
    return np.einsum("ij,j->i", rows.astype(np.float64), query).astype(np.float32)


def sentence_similarities(
    sentence_vectors: np.ndarray,
    ids: list[int],
    spans: list[tuple[int, int]],
    vector: np.ndarray,
    dense: bool = True,
) -> list[tuple[float, float, float, float]]:
    """Cosine of the question's `vector` with each sentence of `ids`, its context (the sentences
    of its span in `spans`), its previous and next one; zeros when retrieval is not `dense`."""
    if not dense:
        return [(0.0, 0.0, 0.0, 0.0)] * len(ids)
    # One product per sentence in reach: the candidates' neighbours are mostly candidates.
    reach = sorted({i for lo, hi in spans for i in range(lo, hi + 1)})
    # Not through BLAS, whose last bits depend on its threads and on how many rows it is
    # given: the trees' splits turn such bits into other answers, and one machine, a shard
    # and a Ray worker (one thread) must score alike. In double precision, then rounded.
    query = vector.astype(np.float64)
    products = row_dots(sentence_vectors[reach], query)
    cosine = dict(zip(reach, products.tolist(), strict=True))
    # The unit-length mean of each sentence's vector and its neighbours' (no encoding).
    context = np.stack(
        [sentence_vectors[lo : hi + 1].sum(axis=0, dtype=np.float32) for lo, hi in spans]
    )
    context /= np.maximum(np.linalg.norm(context, axis=1, keepdims=True), 1e-9)
    context_cosine = row_dots(context, query)
    return [
        (
            cosine[sid],
            float(context_cosine[k]),
            cosine[lo] if lo < sid else 0.0,
            cosine[hi] if hi > sid else 0.0,
        )
        for k, (sid, (lo, hi)) in enumerate(zip(ids, spans, strict=True))
    ]
