"""Retrieval components alone at 10k to 1M passages: BM25, faiss flat and inverted file, fusion."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..settings import Settings
from .measure import TARGETS, PeakRSS, generated_tokens, percentiles, timed
from .scale import synthetic_vectors

SETTINGS = Settings()  # the fetch and fusion sizes the assistant uses

def retrieval_at_size(
    size: int,
    real_tokens: list[list[str]],
    bases: np.ndarray,
    questions: Sequence[str],
    question_vectors: np.ndarray,
    embed_seconds: Sequence[float],
    *,
    approximate_from: int,
) -> dict[str, Any]:
    """SparseIndex, DenseIndex and fusion at `size` passages (real SQuAD, then generated)."""
    from ..index.dense import DenseIndex
    from ..index.fusion import reciprocal_rank_fusion
    from ..index.sparse import SparseIndex

    real = min(size, len(real_tokens))
    row: dict[str, Any] = {
        "passages": size,
        "real_passages": real,
        "generated_passages": size - real,
    }
    with PeakRSS() as peak:
        tokens = real_tokens[:real] + generated_tokens(real_tokens, size - real)
        started = time.perf_counter()
        sparse = SparseIndex(tokens)
        row["sparse_build_s"] = round(time.perf_counter() - started, 3)
        del tokens  # what a caller would drop once the index is built
        vectors = synthetic_vectors(bases, size, np.random.default_rng(0))
        started = time.perf_counter()
        dense = DenseIndex(vectors)
        row["dense_build_s"] = round(time.perf_counter() - started, 3)
    row["peak_rss_mb"] = round(peak.peak_mb, 1)
    row["sparse_passages_per_s"] = round(size / row["sparse_build_s"], 1)
    row["dense_kind"] = dense.kind
    timings: dict[str, list[float]] = {"sparse": [], "dense": [], "fusion": [], "retrieval": []}
    for question, vector in zip(questions, question_vectors, strict=True):
        started = time.perf_counter()
        sparse_ids = sparse.search(question, SETTINGS.fetch)[0].tolist()
        after_sparse = time.perf_counter()
        dense_ids = dense.search(vector, SETTINGS.fetch)[0].tolist()
        after_dense = time.perf_counter()
        reciprocal_rank_fusion([sparse_ids, dense_ids], limit=SETTINGS.passages)
        done = time.perf_counter()
        timings["sparse"].append(after_sparse - started)
        timings["dense"].append(after_dense - after_sparse)
        timings["fusion"].append(done - after_dense)
        timings["retrieval"].append(done - started)
    for name, values in timings.items():
        row[name] = percentiles(values)
    # The question's own embedding time (measured on the same question) plus retrieval.
    row["embed_plus_retrieval"] = percentiles(
        [e + r for e, r in zip(embed_seconds, timings["retrieval"], strict=True)]
    )
    if size <= 10_000:
        row["rank_bm25"] = _rank_bm25_reference(real_tokens, size, questions[:20])
    if size >= approximate_from:
        built = dense if dense.kind == "ivf" else None
        row["ivf"] = _approximate(vectors, question_vectors, built)
    return row


def _rank_bm25_reference(real: list[list[str]], size: int, questions: Sequence[str]) -> dict:
    """rank-bm25 on the same passages: the engine SparseIndex replaced, for comparison."""
    from rank_bm25 import BM25Okapi

    from ..ingest.text import tokenize

    tokens = real[:size] + generated_tokens(real, size - min(size, len(real)))
    reference = BM25Okapi([t or ["\u2205"] for t in tokens], k1=1.2, b=0.75)
    return {
        "questions": len(questions),
        **percentiles([timed(lambda q=q: reference.get_scores(tokenize(q))) for q in questions]),
    }


def _approximate(vectors: np.ndarray, queries: np.ndarray, built: Any | None) -> dict[str, Any]:
    """Inverted-file latency and recall@10, next to exact flat search on the same vectors."""
    from ..index.dense import DenseIndex

    build_s = 0.0  # already built as the default index at this size
    if built is None:
        started = time.perf_counter()
        built = DenseIndex(vectors, kind="ivf")
        build_s = time.perf_counter() - started
    flat = DenseIndex(vectors, kind="flat")
    seconds: dict[str, list[float]] = {"ivf": [], "flat": []}
    hits = 0
    for query in queries:
        start = time.perf_counter()
        truth = flat.search(query, SETTINGS.fetch)[0]
        seconds["flat"].append(time.perf_counter() - start)
        start = time.perf_counter()
        ids = built.search(query, SETTINGS.fetch)[0]
        seconds["ivf"].append(time.perf_counter() - start)
        hits += len(set(ids[:10].tolist()) & set(truth[:10].tolist()))
    recall = hits / (10 * len(queries))
    return {
        "build_s": round(build_s, 3),
        **percentiles(seconds["ivf"]),
        "flat": percentiles(seconds["flat"]),
        "recall_at_10": round(recall, 4),
        "cells": int(built.faiss_index.nlist),
        "nprobe": int(built.faiss_index.nprobe),
        "target_met": recall >= TARGETS["recall_at_10"],
    }


