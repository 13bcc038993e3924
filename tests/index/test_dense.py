"""The packaged embedding model and the faiss index."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index.dense import DenseIndex, ivf_cells
from rag.index.embed import Embedder, packaged_model_path


def test_model_ships_inside_site_packages() -> None:
    path = packaged_model_path()
    assert "site-packages" in str(path) and (path / "model.safetensors").is_file()


def test_real_embeddings_are_unit_vectors_and_meaningful(embedder) -> None:
    vectors = embedder.encode(
        [
            "How much did Xinjiang live-streaming sales grow?",
            "Xinjiang saw a 56 percent surge in online retail sales through live-streaming.",
            "JD opened its largest JD MALL in Chongqing Jiulongpo District.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert embedder.encode([]).shape == (0, 384)


def test_missing_model_folder_says_what_to_pass(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="local model folder"):
        Embedder(tmp_path)


def test_dense_index_search_order() -> None:
    vectors = np.eye(4, dtype=np.float32)
    ids, scores = DenseIndex(vectors).search(np.array([0.1, 0.9, 0.3, 0.0]), 2)
    assert ids.tolist() == [1, 2]
    assert scores[0] == pytest.approx(0.9)
    assert len(DenseIndex(vectors).search(vectors[0], 10)[0]) == 4
    with pytest.raises(ValueError, match="non-empty"):
        DenseIndex(np.zeros((0, 4), dtype=np.float32))


def _unit(n: int, d: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_inverted_file_above_the_threshold_and_its_recall(monkeypatch) -> None:
    import rag.index.dense

    vectors = _unit(2000, 16)
    assert DenseIndex(vectors).kind == "flat"
    monkeypatch.setattr(rag.index.dense, "IVF_THRESHOLD", 1000)
    approximate = DenseIndex(vectors)
    assert approximate.kind == "ivf" and approximate.faiss_index.nlist == ivf_cells(2000) == 128
    exact = DenseIndex(vectors, kind="flat")
    hits = 0
    for query in _unit(50, 16, seed=1):
        ids, scores = approximate.search(query, 10)
        assert list(scores) == sorted(scores, reverse=True)
        hits += len(set(ids.tolist()) & set(exact.search(query, 10)[0].tolist()))
    assert hits / 500 >= 0.95


def test_inverted_file_reuses_the_cells_it_is_given() -> None:
    first = DenseIndex(_unit(3000, 16), kind="ivf")
    grown = _unit(3100, 16, seed=2)
    second = DenseIndex(grown, kind="ivf", like=first.faiss_index)
    centroids = [
        i.faiss_index.quantizer.reconstruct_n(0, i.faiss_index.nlist) for i in (first, second)
    ]
    np.testing.assert_array_equal(*centroids)
    assert len(second) == 3100 and len(first) == 3000  # the index lent is left as it was
    assert second.search(grown[3050], 1)[0].tolist() == [3050]
    fresh = DenseIndex(grown, kind="ivf", like=DenseIndex(_unit(50, 16)).faiss_index)
    assert fresh.faiss_index.is_trained  # a flat `like` lends nothing; the cells are trained anew


def test_ivf_cells_grow_with_the_corpus() -> None:
    assert [ivf_cells(n) for n in (30_000, 100_000, 1_000_000, 10_000_000)] == [
        512,
        1024,
        2048,
        2048,
    ]


def test_inverted_file_saves_and_loads_with_faiss(tmp_path) -> None:
    import faiss

    vectors = _unit(3000, 8)
    index = DenseIndex(vectors, kind="ivf")
    faiss.write_index(index.faiss_index, str(tmp_path / "v.faiss"))
    loaded = DenseIndex.from_faiss(faiss.read_index(str(tmp_path / "v.faiss")))
    assert loaded.kind == "ivf" and len(loaded) == 3000
    assert loaded.faiss_index.nprobe == index.faiss_index.nprobe == 64
    assert loaded.search(vectors[7], 5)[0].tolist() == index.search(vectors[7], 5)[0].tolist()
    with pytest.raises(ValueError, match="flat, ivf"):
        DenseIndex(vectors, kind="hnsw")
