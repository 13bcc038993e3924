"""`rag bench`: latency, throughput, build speed and memory, each next to its floor."""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .load import CLIENTS, KINDS, QUESTIONS_EACH, serve_and_load
from .scale import BASE_VECTORS, NOISE, SENTENCES_PER_ARTICLE, at_size, synthetic_vectors

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("RAG_BENCH_DATA", ROOT.parent / "shared" / "data"))
SQUAD_FILES = ("squad2_dev_subset.json", "squad1_train_subset.json")
DEFAULT_SIZES = (10_000, 100_000)  # 1M is available through --sizes; see README "Performance"
DEFAULT_OUT = ROOT / "results" / "bench.json"
BUILD_RUNS = 3  # builds and raw encodes timed, alternately, for the build row
FETCH, FUSED = 50, 8  # the Settings defaults: over-fetch per retriever, passages after fusion
TARGETS = {
    "ask_p50_over_floor": 2.5,
    "ask_p95_ms": {100_000: 50.0, 1_000_000: 100.0},
    "cold_start_above_floor_s": 1.0,
    "build_over_encode": 0.90,
    "peak_rss_mb": {100_000: 1536.0, 1_000_000: 6144.0},
    "recall_at_10": 0.98,
    "load_failures": 0,
}

# Child programs for the cold-start measurements: each prints the wall-clock time when done and
# its peak RSS in kB (VmHWM: ru_maxrss would carry over this process's own peak across exec).
_FLOOR_CHILD = """
import os, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sentence_transformers import SentenceTransformer
from rag.dense import packaged_model_path
model = SentenceTransformer(str(packaged_model_path()), device="cpu", local_files_only=True)
model.encode(["{question}"], normalize_embeddings=True, convert_to_numpy=True)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(time.time(), hwm.split()[1])
"""
_ANSWER_CHILD = """
import time
import rag
assistant = rag.Assistant.from_corpus({corpus!r}, {index!r})
assistant.ask("{question}")
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(time.time(), hwm.split()[1])
"""
QUESTION = "How much did Xinjiang live-streaming sales grow?"


class PeakRSS:
    """Samples this process's resident memory in a thread; `peak_mb` is the highest seen."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, rss_mb())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux /proc)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    values = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p95_ms": round(float(np.percentile(values, 95)), 3),
    }


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- inputs --------------------------------------------------------------------------------


def squad_material() -> tuple[list[str], list[list[str]], list[str]]:
    """Real SQuAD passages (texts and tokens, as the Assistant builds them) and questions."""
    from .evaluate import read_squad
    from .passages import passage, passage_table, passage_text, sentence_table
    from .text import tokenize

    texts: list[str] = []
    questions: list[str] = []
    for name in SQUAD_FILES:
        squad = read_squad(DATA / name)
        articles = squad.articles
        sentences = sentence_table(articles)
        rows = passage_table(sentences, window=3, stride=2)
        texts += [passage_text(articles, passage(articles, sentences, row)) for row in rows]
        questions += [pair.question for pair in squad.pairs]
    random.Random(0).shuffle(questions)
    return texts, [tokenize(t) for t in texts], questions


def generated_tokens(real: list[list[str]], count: int, seed: int = 0) -> list[list[str]]:
    """`count` passages of tokens drawn from the real passages' unigram distribution.

    Lengths are drawn from the real passage lengths, so posting lists and document lengths
    follow the real corpus; word order and topics do not (BM25 ignores order anyway).
    """
    rng = np.random.default_rng(seed)
    vocabulary, inverse = np.unique(
        np.concatenate([np.asarray(t) for t in real]), return_inverse=True
    )
    frequency = np.bincount(inverse).astype(np.float64)
    lengths = rng.choice(np.asarray([len(t) for t in real]), size=count)
    flat = rng.choice(len(vocabulary), size=int(lengths.sum()), p=frequency / frequency.sum())
    words = vocabulary.tolist()  # Python strings, shared between passages like interned tokens
    out, start = [], 0
    for length in lengths.tolist():
        out.append([words[i] for i in flat[start : start + length]])
        start += length
    return out


# --- measurements --------------------------------------------------------------------------


def cold_start(corpus: Path, index_dir: Path, runs: int) -> dict[str, Any]:
    """Process start to first answer, and to the first question embedded by the bare model."""
    if runs < 1:
        return {"skipped": True}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    programs = {
        "floor": _FLOOR_CHILD.format(question=QUESTION),
        "first_answer": _ANSWER_CHILD.format(
            corpus=str(corpus), index=str(index_dir), question=QUESTION
        ),
    }
    seconds: dict[str, list[float]] = {name: [] for name in programs}
    rss: dict[str, float] = {}
    for _ in range(runs):
        for name, program in programs.items():  # interleaved, so load drifts hit both alike
            started = time.time()
            done = subprocess.run(
                [sys.executable, "-c", program],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            finished, peak_kb = done.stdout.split()[-2:]
            seconds[name].append(float(finished) - started)
            rss[name] = int(peak_kb) / 1024
    floor, answer = (float(np.median(seconds[n])) for n in ("floor", "first_answer"))
    return {
        "runs": runs,
        "floor_s": round(floor, 3),
        "first_answer_s": round(answer, 3),
        "above_floor_s": round(answer - floor, 3),
        "floor_peak_rss_mb": round(rss["floor"], 1),
        "first_answer_peak_rss_mb": round(rss["first_answer"], 1),
        "target_met": answer - floor <= TARGETS["cold_start_above_floor_s"],
    }


def build(corpus: Path, embedder: Any, index_dir: Path) -> tuple[Any, dict[str, Any]]:
    """Assistant build (index saved) vs raw `encode` of the same texts, with peak memory."""
    from .assistant import Assistant
    from .corpus import load_corpus
    from .passages import Texts, passage_table, sentence_table

    articles = load_corpus(corpus).articles
    sentences = sentence_table(articles)
    rows = passage_table(sentences, window=3, stride=2)
    # Exactly what the build encodes: every passage's text, then every sentence's.
    texts = [*Texts(articles, sentences, rows), *Texts(articles, sentences, None)]
    embedder.encode(texts[:16])  # warm both runs alike
    builds, encodes, peaks = [], [], []
    # Alternated and the median taken: one run of each swung the ratio by 8 points.
    for _ in range(BUILD_RUNS):
        assistant = None  # never two at once: the peak is one build's
        with PeakRSS() as peak:
            started = time.perf_counter()
            assistant = Assistant.from_corpus(corpus, index_dir, embedder=embedder, rebuild=True)
            builds.append(time.perf_counter() - started)
        peaks.append(peak.peak_mb)
        encodes.append(_timed(lambda: embedder.encode(texts)))
    built, encode = float(np.median(builds)), float(np.median(encodes))
    passages = len(rows)
    return assistant, {
        "corpus": str(corpus),
        "runs": BUILD_RUNS,
        "passages": passages,
        "texts_encoded": len(texts),
        "build_s": round(built, 3),
        "passages_per_s": round(passages / built, 1),
        "encode_s": round(encode, 3),
        "encode_passages_per_s": round(passages / encode, 1),
        "build_over_encode": round(encode / built, 3),
        "peak_rss_mb": round(max(peaks), 1),
        "target_met": encode / built >= TARGETS["build_over_encode"],
    }


def warm_ask(assistant: Any, embedder: Any, questions: Sequence[str]) -> dict[str, Any]:
    """`ask` latency next to the embedding of the same question, alternating, same process."""
    for question in questions[:5]:
        assistant.ask(question)
    asks, floors = [], []
    for question in questions:
        floors.append(_timed(lambda q=question: embedder.encode([q])))
        asks.append(_timed(lambda q=question: assistant.ask(q)))
    ask, floor = percentiles(asks), percentiles(floors)
    ratio = ask["p50_ms"] / floor["p50_ms"]
    return {
        "questions": len(questions),
        "ask": ask,
        "floor": floor,
        "ask_p50_over_floor": round(ratio, 2),
        "target_met": ratio <= TARGETS["ask_p50_over_floor"],
    }


def batch(assistant: Any, embedder: Any, questions: Sequence[str], size: int = 32) -> dict:
    """`ask_many` throughput in batches of `size`, next to batched embedding alone."""
    chunks = [list(questions[i : i + size]) for i in range(0, len(questions), size)]
    asked = sum(_timed(lambda c=c: assistant.ask_many(c)) for c in chunks)
    encoded = sum(_timed(lambda c=c: embedder.encode(c)) for c in chunks)
    return {
        "batch_size": size,
        "questions": len(questions),
        "questions_per_s": round(len(questions) / asked, 1),
        "floor_questions_per_s": round(len(questions) / encoded, 1),
    }


def web_load(assistant: Any, clients: int, questions_each: int) -> dict[str, Any]:
    """The real web server on `assistant` under `clients` concurrent gradio clients."""
    if clients < 1:
        return {"skipped": True}
    from ui.app import CONCURRENCY_LIMIT

    load = serve_and_load(assistant, clients=clients, questions_each=questions_each)
    return {
        "clients": clients,
        "questions_each": questions_each,
        "requests": load.requests,
        "concurrency_limit": CONCURRENCY_LIMIT,
        "elapsed_s": round(load.elapsed_s, 3),
        "requests_per_s": round(load.requests_per_s, 2),
        "latency": {
            kind: {
                "p50_ms": round(load.p50_s[kind] * 1000, 1),
                "p95_ms": round(load.p95_s[kind] * 1000, 1),
            }
            for kind in KINDS
        },
        "failures": len(load.failures),
        "failed": list(load.failures[:10]),
        "still_up": load.still_up,
        "target_met": len(load.failures) <= TARGETS["load_failures"] and load.still_up,
    }


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
    from .dense import DenseIndex
    from .fusion import reciprocal_rank_fusion
    from .sparse import SparseIndex

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
        sparse_ids = sparse.search(question, FETCH)[0].tolist()
        after_sparse = time.perf_counter()
        dense_ids = dense.search(vector, FETCH)[0].tolist()
        after_dense = time.perf_counter()
        reciprocal_rank_fusion([sparse_ids, dense_ids], limit=FUSED)
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

    from .text import tokenize

    tokens = real[:size] + generated_tokens(real, size - min(size, len(real)))
    reference = BM25Okapi([t or ["\u2205"] for t in tokens], k1=1.2, b=0.75)
    return {
        "questions": len(questions),
        **percentiles([_timed(lambda q=q: reference.get_scores(tokenize(q))) for q in questions]),
    }


def _approximate(vectors: np.ndarray, queries: np.ndarray, built: Any | None) -> dict[str, Any]:
    """Inverted-file latency and recall@10, next to exact flat search on the same vectors."""
    from .dense import DenseIndex

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
        truth = flat.search(query, FETCH)[0]
        seconds["flat"].append(time.perf_counter() - start)
        start = time.perf_counter()
        ids = built.search(query, FETCH)[0]
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


# --- the run -------------------------------------------------------------------------------


def run(
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    assistant_sizes: Sequence[int] | None = None,
    questions: int = 300,
    cold_runs: int = 3,
    corpus: Path | None = None,
    build_corpus: Path | None = None,
    embedder: Any = None,
    approximate_from: int = 50_000,
    load_clients: int = CLIENTS,
    load_questions: int = QUESTIONS_EACH,
    out: Path | None = DEFAULT_OUT,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Every measurement of issue 6; writes `out` (JSON) unless it is None."""
    from .assistant import DEFAULT_CORPUS
    from .corpus import load_corpus  # noqa: F401  (imported before timing anything)
    from .dense import Embedder
    from .evaluate import read_gold_jsonl

    corpus = Path(corpus or DEFAULT_CORPUS)
    log("reading SQuAD passages and questions")
    real_texts, real_tokens, squad_questions = squad_material()
    gold = (
        [pair.question for pair in read_gold_jsonl(corpus / "gold_qa.jsonl")]
        if (corpus / "gold_qa.jsonl").is_file()
        else []
    )
    asked = (gold + squad_questions)[:questions]
    result: dict[str, Any] = {
        "machine": machine(),
        "targets": _targets_json(),
        "settings": {"fetch": FETCH, "fused": FUSED, "questions": len(asked)},
    }
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        embedder = embedder or Embedder()
        log("building the index for the warm and cold measurements")
        assistant, result["build"] = build(corpus, embedder, Path(tmp) / "index")
        log(f"warm ask over {len(asked)} questions")
        result["warm_ask"] = {"corpus": str(corpus), **warm_ask(assistant, embedder, asked)}
        result["batch"] = {"corpus": str(corpus), **batch(assistant, embedder, asked)}
        if build_corpus is not None:
            log(f"index build on {build_corpus}")
            result["build"] = build(build_corpus, embedder, Path(tmp) / "build")[1]
        log(f"cold start ({cold_runs} runs each)")
        result["cold_start"] = cold_start(corpus, Path(tmp) / "index", cold_runs)
    sample = random.Random(0).sample(range(len(real_texts)), min(BASE_VECTORS, len(real_texts)))
    log(f"embedding {len(sample)} real passages and {len(squad_questions[:questions])} questions")
    bases = embedder.encode([real_texts[i] for i in sample])
    size_questions = squad_questions[:questions]
    embed_seconds, vectors = [], []
    for question in size_questions:
        start = time.perf_counter()
        vectors.append(embedder.encode([question])[0])
        embed_seconds.append(time.perf_counter() - start)
    result["sizes"] = []
    for size in sorted(sizes):
        log(f"retrieval at {size:,} passages")
        row = retrieval_at_size(
            size,
            real_tokens,
            bases,
            size_questions,
            np.stack(vectors),
            embed_seconds,
            approximate_from=approximate_from,
        )
        result["sizes"].append(row)
    result["assistant_sizes"] = []
    with tempfile.TemporaryDirectory(prefix="rag-bench-scale-") as tmp:
        for size in sorted(sizes if assistant_sizes is None else assistant_sizes):
            log(f"the whole assistant at {size:,} passages, in fresh processes")
            result["assistant_sizes"].append(_judge(at_size(size, Path(tmp), questions)))
    # Last, as importing gradio and running its server would add to the peak RSS of the rows above.
    log(f"web server under {load_clients} clients x {load_questions} requests")
    result["load"] = web_load(assistant, load_clients, load_questions)
    result["notes"] = notes(len(real_tokens))
    result["table"] = table(result)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def _judge(row: dict[str, Any]) -> dict[str, Any]:
    size, serve = row["target_passages"], row["serve"]
    latency = TARGETS["ask_p95_ms"].get(size)
    if latency is not None:
        row["latency_target_met"] = serve["ask"]["p95_ms"] < latency
    # The highest of building, serving and adding an article: each is something a user does.
    row["peak_rss_mb"] = max(
        row["build"]["peak_rss_mb"],
        serve["serving_peak_rss_mb"],
        serve["add_article"]["peak_rss_mb"],
    )
    memory = TARGETS["peak_rss_mb"].get(size)
    if memory is not None:
        row["memory_target_met"] = row["peak_rss_mb"] < memory
    return row


def _targets_json() -> dict[str, Any]:
    return {
        k: ({str(n): v for n, v in t.items()} if isinstance(t, dict) else t)
        for k, t in TARGETS.items()
    }


def machine() -> dict[str, Any]:
    """What the numbers were taken on."""
    from importlib.metadata import version

    with open("/proc/meminfo") as handle:
        total_kb = int(handle.readline().split()[1])
    torch = sys.modules.get("torch")  # its thread count only if a model is loaded already
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(total_kb / 2**20, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "torch": version("torch"),
        "torch_threads": torch.get_num_threads() if torch else None,
        "faiss": version("faiss-cpu"),
        "numpy": np.__version__,
    }


def notes(real: int) -> list[str]:
    """What each row measures and how its data was made."""
    return [
        "warm ask: Assistant.ask on the bundled corpus, gold_qa.jsonl questions then SQuAD dev "
        "questions (most off-topic, so often abstained); floor: Embedder.encode of the same one "
        "question, timed right before it in the same process.",
        "batch: Assistant.ask_many in batches of 32 questions; floor: Embedder.encode of the "
        "same batches.",
        "build: Assistant.from_corpus(rebuild=True) (encodes passages and sentences, BM25, "
        "faiss, saves the index) vs Embedder.encode of exactly those texts; peak RSS of the "
        "bench process during the build, the model included.",
        "cold start: fresh `python -c` processes, spawn to the first answer "
        "(rag.Assistant.from_corpus on a saved index + ask) vs spawn to one question embedded "
        "by a bare SentenceTransformer; median over runs.",
        f"sizes: retrieval components only, not the full Assistant: SparseIndex.search + "
        f"DenseIndex.search (top {FETCH} each) + reciprocal_rank_fusion (top {FUSED}), over "
        f"SQuAD dev questions. Passages: the first {real:,} are real SQuAD passages (both "
        "files, 3-sentence windows), the rest generated: tokens drawn from the real passages' "
        "unigram distribution, lengths from the real lengths.",
        f"sizes, dense: synthetic unit vectors for every row, each a random mix of two of "
        f"{BASE_VECTORS} real MiniLM passage embeddings plus Gaussian noise (scale {NOISE}); "
        "questions are real MiniLM embeddings. embed+retrieval adds each question's own "
        "measured embedding time to its retrieval time; the composer is not included (its cost "
        "does not grow with the corpus: see warm ask minus its floor).",
        "assistant at size: the whole pipeline, rag.scale, each step in a fresh process. "
        "Corpus: the real SQuAD articles, then generated articles of "
        f"{SENTENCES_PER_ARTICLE} sentences whose words follow the real word frequencies and "
        "whose lengths follow the real sentence lengths. Build: Assistant.from_corpus with "
        "precomputed synthetic vectors (as in the sizes rows) standing in for the model, so it "
        "times everything but encoding. Serve: a new process loads that index with the real "
        "model, answers SQuAD dev questions (Assistant.ask, timed next to embedding the same "
        "question), then a news article is added to the corpus and the index rebuilt: the "
        "embedding cache embeds only its texts with the real model. Peak RSS is each process's "
        "peak resident memory (VmHWM), the model (about 0.7 GB with torch) included.",
        "ivf: DenseIndex(kind='ivf') (faiss IndexIVFScalarQuantizer, half precision) on the "
        "same vectors, recall@10 against exact flat search; DenseIndex switches to it above "
        "rag.dense.IVF_THRESHOLD passages.",
        "web load (rag.load): the real gradio server (ui.app.launch) on the bundled Assistant "
        "and --load-clients gradio_client sessions in threads of the bench process, so clients "
        "and server share its cores. Each session asks its requests one after another, cycling "
        "through rag.load.MIX: two answerable questions and one the articles cannot answer (ok: "
        "the right sentence, or an abstention), an empty one and a 1 MB one (refused: the error "
        "message must say why). Latency is per request, client side, queueing included; a "
        "failure is a wrong answer, a missing refusal or any error; the server must still "
        "answer a new client afterwards.",
    ]


def table(result: dict[str, Any]) -> str:
    """The Markdown table printed at the end and pasted into the README."""
    lines = [
        "| measurement | value | floor / reference | ratio or target |",
        "| --- | --- | --- | --- |",
    ]
    warm = result["warm_ask"]
    lines.append(
        f"| warm ask p50 / p95, bundled corpus ({warm['questions']} q) | "
        f"{warm['ask']['p50_ms']:.1f} / {warm['ask']['p95_ms']:.1f} ms | "
        f"embed 1 question {warm['floor']['p50_ms']:.1f} / {warm['floor']['p95_ms']:.1f}"
        f" ms | {warm['ask_p50_over_floor']:.2f}x (target <= 2.5x) "
        f"{_mark(warm['target_met'])} |"
    )
    b = result["batch"]
    lines.append(
        f"| ask_many throughput (batches of {b['batch_size']}) | "
        f"{b['questions_per_s']:.0f} q/s | embed only {b['floor_questions_per_s']:.0f} "
        f"q/s | {b['questions_per_s'] / b['floor_questions_per_s']:.2f}x |"
    )
    c = result["cold_start"]
    if c.get("skipped"):
        lines.append("| cold start | skipped | | |")
    else:
        lines.append(
            f"| cold start to first answer | {c['first_answer_s']:.2f} s | bare model "
            f"first embedding {c['floor_s']:.2f} s | +{c['above_floor_s']:.2f} s "
            f"(target <= +1 s) {_mark(c['target_met'])} |"
        )
    d = result["build"]
    lines.append(
        f"| index build, {d['passages']:,} passages ({d['texts_encoded']:,} texts), "
        f"median of {d['runs']} | "
        f"{d['passages_per_s']:.1f} passages/s, peak {d['peak_rss_mb']:.0f} MB | "
        f"raw encode {d['encode_passages_per_s']:.1f} passages/s | "
        f"{d['build_over_encode']:.0%} (target >= 90%) {_mark(d['target_met'])} |"
    )
    lines += _load_rows(result["load"])
    for row in result["sizes"]:
        n = f"{row['passages']:,}"
        lines.append(
            f"| {n}: sparse / dense ({row['dense_kind']}) / fusion p95 | "
            f"{row['sparse']['p95_ms']:.1f} / {row['dense']['p95_ms']:.1f} / "
            f"{row['fusion']['p95_ms']:.2f} ms | "
            + (f"rank-bm25 p50 {row['rank_bm25']['p50_ms']:.1f} ms" if "rank_bm25" in row else "")
            + " | |"
        )
        lines.append(
            f"| {n}: embed + retrieval p50 / p95 | "
            f"{row['embed_plus_retrieval']['p50_ms']:.1f} / "
            f"{row['embed_plus_retrieval']['p95_ms']:.1f} ms | retrieval alone "
            f"{row['retrieval']['p95_ms']:.1f} ms p95 | |"
        )
        lines.append(
            f"| {n}: BM25 build, faiss build | {row['sparse_passages_per_s']:,.0f} "
            f"passages/s, {row['dense_build_s']:.1f} s | | |"
        )
        if "ivf" in row:
            v = row["ivf"]
            lines.append(
                f"| {n}: IVF ({v['cells']} cells, nprobe {v['nprobe']}) p50 / p95 | "
                f"{v['p50_ms']:.2f} / {v['p95_ms']:.2f} ms, build {v['build_s']:.1f} s | "
                f"flat {v['flat']['p50_ms']:.1f} / {v['flat']['p95_ms']:.1f} ms | recall@10 "
                f"{v['recall_at_10']:.3f} (target >= 0.98) {_mark(v['target_met'])} |"
            )
    lines += [line for row in result["assistant_sizes"] for line in _assistant_rows(row)]
    return "\n".join(lines)


def _assistant_rows(row: dict[str, Any]) -> list[str]:
    size, build, serve = row["target_passages"], row["build"], row["serve"]
    add = serve["add_article"]
    n = f"{build['passages']:,} passages"
    latency, memory = row.get("latency_target_met"), row.get("memory_target_met")
    ask_goal = f"p95 < {TARGETS['ask_p95_ms'].get(size, 0):.0f} ms"
    memory_goal = f"< {TARGETS['peak_rss_mb'].get(size, 0):.0f} MB"
    return [
        f"| {n}: Assistant.ask p50 / p95 ({build['dense_kind']}) | "
        f"{serve['ask']['p50_ms']:.1f} / {serve['ask']['p95_ms']:.1f} ms | embed 1 question "
        f"{serve['floor']['p50_ms']:.1f} / {serve['floor']['p95_ms']:.1f} ms | "
        f"{_target(latency, ask_goal)} |",
        f"| {n}: peak RSS building / serving / adding an article | "
        f"{build['peak_rss_mb']:.0f} / {serve['serving_peak_rss_mb']:.0f} / "
        f"{add['peak_rss_mb']:.0f} MB | model loaded alone {build['model_rss_mb']:.0f} MB | "
        f"{_target(memory, memory_goal)} |",
        f"| {n}: add one article; load; build | {add['seconds']:.1f} s ({add['encoded']} texts "
        f"embedded, {add['reused']:,} reused); {serve['load_s']:.1f} s; "
        f"{build['build_s']:.1f} s | build with precomputed vectors | |",
    ]


def _target(met: bool | None, goal: str) -> str:
    """'p95 < 50 ms met' for a size with a target; '' for a size without one (met is None)."""
    return "" if met is None else f"{goal} {_mark(met)}"


def _load_rows(load: dict[str, Any]) -> list[str]:
    if load.get("skipped"):
        return ["| web server under load | skipped | | |"]
    what = f"{load['clients']} clients x {load['questions_each']} requests"
    ok, empty, huge = (load["latency"][kind] for kind in ("ok", "empty", "huge"))
    return [
        f"| {what}, web server: ok p50 / p95 | {ok['p50_ms'] / 1000:.2f} / "
        f"{ok['p95_ms'] / 1000:.2f} s | {load['requests_per_s']:.1f} requests/s, concurrency "
        f"limit {load['concurrency_limit']} | {load['failures']} of {load['requests']} failed, "
        f"server {'up' if load['still_up'] else 'DOWN'} (target 0 failed) "
        f"{_mark(load['target_met'])} |",
        f"| {what}: refused p50 / p95, empty; 1 MB | {empty['p50_ms'] / 1000:.2f} / "
        f"{empty['p95_ms'] / 1000:.2f} s; {huge['p50_ms'] / 1000:.2f} / "
        f"{huge['p95_ms'] / 1000:.2f} s | ok p50 {ok['p50_ms'] / 1000:.2f} s | |",
    ]


def _mark(met: bool) -> str:
    return "met" if met else "NOT met"


def parse_sizes(text: str) -> list[int]:
    """'10k,100k,1M' -> [10000, 100000, 1000000]."""
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        number = part[:-1] if scale > 1 else part
        try:
            value = int(float(number) * scale)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--sizes takes numbers such as 10k,100k,1M; got {part!r}"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"--sizes must be positive; got {part!r}")
        out.append(value)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `rag bench` and `python -m rag.bench`."""
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="passage counts for the retrieval rows (default 10k,100k; 1M "
        "takes several minutes more)",
    )
    parser.add_argument("--questions", type=int, default=300, help="questions per measurement")
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=3,
        help="fresh processes per cold-start measurement (0 skips it)",
    )
    parser.add_argument(
        "--build-corpus",
        default=None,
        metavar="DIR",
        help="corpus folder for the build measurement (default: the bundled one)",
    )
    parser.add_argument(
        "--load-clients",
        type=int,
        default=CLIENTS,
        metavar="N",
        help=f"concurrent web clients, {QUESTIONS_EACH} requests each, against "
        f"the real server (default {CLIENTS}; 0 skips it)",
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="where to write bench.json")


def command(args: argparse.Namespace) -> int:
    """Run the benchmark with parsed arguments; prints the table."""
    result = run(
        sizes=args.sizes,
        questions=args.questions,
        cold_runs=args.cold_runs,
        build_corpus=Path(args.build_corpus) if args.build_corpus else None,
        load_clients=args.load_clients,
        out=Path(args.out),
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(result["table"])
    print(f"\nwrote {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.bench", description=__doc__)
    add_arguments(parser)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return command(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
