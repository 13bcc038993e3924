"""`rag bench`: the whole assistant's latency, throughput, build speed and memory, beside floors."""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .components import SETTINGS, retrieval_at_size
from .figures import figures_rows, squad_figures
from .ingest import PAGES, ingest
from .load import CLIENTS, QUESTIONS_EACH
from .measure import (
    DEFAULT_OUT,
    DEFAULT_SIZES,
    TARGETS,
    PeakRSS,
    squad_material,
    timed,
)
from .report import table
from .scale import BASE_VECTORS, NOISE, SENTENCES_PER_ARTICLE, at_size
from .serving import TorchEmbedder, cold_start, served, warm_ask
from .stages import breakdown

BUILD_RUNS = 3  # builds and raw encodes timed, alternately, for the build row

# --- measurements --------------------------------------------------------------------------


def build(corpus: Path, embedder: Any, index_dir: Path) -> tuple[Any, dict[str, Any]]:
    """Assistant build (index saved) vs raw `encode` of the same texts, with peak memory."""
    from ..assistant import Assistant
    from ..ingest.corpus import load_corpus
    from ..ingest.passages import Texts, passage_table, sentence_table

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
        encodes.append(timed(lambda: embedder.encode(texts)))
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


def batch(assistant: Any, embedder: Any, questions: Sequence[str], size: int = 32) -> dict:
    """`ask_many` throughput in batches of `size`, next to batched embedding alone."""
    chunks = [list(questions[i : i + size]) for i in range(0, len(questions), size)]
    asked = sum(timed(lambda c=c: assistant.ask_many(c)) for c in chunks)
    encoded = sum(timed(lambda c=c: embedder.encode_questions(c)) for c in chunks)
    return {
        "batch_size": size,
        "questions": len(questions),
        "questions_per_s": round(len(questions) / asked, 1),
        "floor_questions_per_s": round(len(questions) / encoded, 1),
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
    squad: Path | None = None,
    embedder: Any = None,
    approximate_from: int = 50_000,
    load_clients: int = CLIENTS,
    load_questions: int = QUESTIONS_EACH,
    out: Path | None = DEFAULT_OUT,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Every measurement of issue 6 (and the figures table's of issue 30, on the bundled corpus
    and on the articles of the SQuAD file `squad`); writes `out` (JSON) unless it is None."""
    # Over 60 lines: the measurements in the order they run, each a call and its log line.
    from ..assistant import DEFAULT_CORPUS
    from ..eval.data import read_gold_jsonl
    from ..index.embed import Embedder
    from ..ingest.corpus import load_corpus  # noqa: F401  (imported before timing anything)

    corpus = Path(corpus or DEFAULT_CORPUS)
    if squad is not None and not Path(squad).is_file():  # before minutes of other measurements
        raise FileNotFoundError(f"--squad {squad}: no such file; pass a SQuAD JSON file")
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
        "settings": {"fetch": SETTINGS.fetch, "fused": SETTINGS.passages, "questions": len(asked)},
    }
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        embedder = embedder or Embedder()
        torch_embedder = TorchEmbedder(embedder.identity)
        log("building the index for the warm and cold measurements, ONNX Runtime beside torch")
        index = Path(tmp) / "index"
        assistant, result["build"] = build(corpus, embedder, index)
        torch_path, result["build_torch"] = build(corpus, torch_embedder, Path(tmp) / "torch")
        log(f"warm ask over {len(asked)} questions")
        goals = TARGETS["ask_p50_over_floor"], TARGETS["ask_p95_over_floor"]
        result["warm_ask"] = {
            "corpus": str(corpus),
            **warm_ask(assistant, torch_path, torch_embedder, asked, *goals),
        }
        log("warm ask again with the trees alone (scorer='trees')")
        trees, trees_torch = (a.with_scorer("trees") for a in (assistant, torch_path))
        goal = TARGETS["trees_ask_p50_over_floor"]
        result["warm_ask_trees"] = warm_ask(trees, trees_torch, torch_embedder, asked, goal)
        result["batch"] = {"corpus": str(corpus), **batch(assistant, embedder, asked)}
        log("where a warm answer's time goes, stage by stage")
        result["stages"] = breakdown(assistant.ask, asked)
        if build_corpus is not None:
            log(f"index build on {build_corpus}, ONNX Runtime beside torch")
            result["build"] = build(build_corpus, embedder, Path(tmp) / "build")[1]
            result["build_torch"] = build(build_corpus, torch_embedder, Path(tmp) / "bt")[1]
        log(f"cold start ({cold_runs} runs each)")
        result["cold_start"] = cold_start(corpus, index, cold_runs)
        log(f"`rag serve` under {load_clients} clients x {load_questions} requests")
        result["served"] = served(corpus, index, load_clients, load_questions)
        log(f"ingest: {PAGES:,} web pages beside the same stories as .txt")
        result["ingest"] = ingest()
        log("the figures table of the bundled corpus: its build, then GET /api/figures")
        load = load_clients, load_questions
        result["figures"] = [figures_rows("bundled corpus", corpus, index, assistant, *load)]
        if squad is not None:
            log(f"the figures table of {squad}: an index built, then GET /api/figures")
            result["figures"].append(squad_figures(squad, embedder, Path(tmp) / "squad", *load))
    sample = random.Random(0).sample(range(len(real_texts)), min(BASE_VECTORS, len(real_texts)))
    log(f"embedding {len(sample)} real passages and {len(squad_questions[:questions])} questions")
    bases = embedder.encode([real_texts[i] for i in sample])
    size_questions = squad_questions[:questions]
    embed_seconds, vectors = [], []
    for question in size_questions:
        start = time.perf_counter()
        vectors.append(embedder.encode_questions([question])[0])
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
        "questions (most off-topic, so often abstained), through ONNX Runtime (the assistant) "
        "and through the torch path (the same index and composer, the question embedded by "
        "sentence-transformers); floor: sentence-transformers embedding the same one question, "
        "timed right before both in the same process; the default scorer is the reader. 'trees "
        "alone': the same questions through the trees (scorer='trees'), the reader reading only "
        "the short answers.",
        "batch: Assistant.ask_many in batches of 32 questions; floor: Embedder.encode of the "
        "same batches.",
        "build: Assistant.from_corpus(rebuild=True) (encodes passages and sentences, BM25, "
        "faiss, saves the index) vs Embedder.encode of exactly those texts; peak RSS of the "
        "bench process during the build, the model included.",
        "cold start: `python -m rag.cli ask QUESTION` on the saved index of the bundled corpus, "
        "spawn to exit, against a fresh process loading sentence-transformers and embedding the "
        "same question; median over runs, interleaved; peak RSS is each process's own.",
        f"sizes: retrieval components only, not the full Assistant: SparseIndex.search + "
        f"DenseIndex.search (top {SETTINGS.fetch} each) + reciprocal_rank_fusion "
        f"(top {SETTINGS.passages}), over "
        f"SQuAD dev questions. Passages: the first {real:,} are real SQuAD passages (both "
        "files, 3-sentence windows), the rest generated: tokens drawn from the real passages' "
        "unigram distribution, lengths from the real lengths.",
        f"sizes, dense: synthetic unit vectors for every row, each a random mix of two of "
        f"{BASE_VECTORS} real MiniLM passage embeddings plus Gaussian noise (scale {NOISE}); "
        "questions are real MiniLM embeddings. embed+retrieval adds each question's own "
        "measured embedding time to its retrieval time; the composer is not included (its cost "
        "does not grow with the corpus: see warm ask minus its floor).",
        "assistant at size: the whole pipeline, rag.bench.scale, each step in a fresh process. "
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
        "rag.index.dense.IVF_THRESHOLD passages.",
        "served: `rag serve` in a process of its own on the bundled corpus and its index; "
        "--load-clients sessions in threads of the bench process send their requests one "
        "after another, first to the JSON API (POST /api/ask, rag.bench.load.JSON_MIX: two "
        "answerable questions and one the articles cannot answer, an empty question, a "
        "malformed body and a 1 MB body), then to gradio's /ask endpoint (MIX). A failure is a "
        "wrong answer, a wrong status or refusal message, or any error; the server must still "
        "answer a new client afterwards. Peak RSS is the server's VmHWM after both loads.",
        "figures: the figures table's part of an index build from scratch (annotation_seconds "
        "of build.json against its seconds), on the bundled corpus (its last build above) and, "
        "with --squad, on that file's articles (one build); then `rag serve` on that index in a "
        "process of its own, its first GET /api/figures timed alone (it reads the table from the "
        "index), then --load-clients sessions in threads of the bench process sending "
        "rag.bench.figures.figures_mix in turn: the whole table, each of measure, about, place "
        "and period with the table's two most common values, and the three at once. A failure "
        "is a status other than 200 or another number of figures than the same index gives in "
        "the bench process.",
    ]
