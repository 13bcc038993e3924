"""`rag bench`: the whole assistant's latency, throughput, build speed and memory, beside floors."""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .components import SETTINGS, retrieval_at_size
from .load import CLIENTS, KINDS, QUESTIONS_EACH, serve_and_load
from .measure import (
    DEFAULT_OUT,
    DEFAULT_SIZES,
    ROOT,
    TARGETS,
    PeakRSS,
    percentiles,
    squad_material,
    timed,
)
from .report import table
from .scale import BASE_VECTORS, NOISE, SENTENCES_PER_ARTICLE, at_size

BUILD_RUNS = 3  # builds and raw encodes timed, alternately, for the build row

# Child programs for the cold-start measurements: each prints the wall-clock time when done and
# its peak RSS in kB (VmHWM: ru_maxrss would carry over this process's own peak across exec).
_FLOOR_CHILD = """
import os, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sentence_transformers import SentenceTransformer
from rag.embed import packaged_model_path
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
    from ..assistant import Assistant
    from ..corpus import load_corpus
    from ..passages import Texts, passage_table, sentence_table

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


def warm_ask(
    assistant: Any, embedder: Any, questions: Sequence[str], target: float
) -> dict[str, Any]:
    """`ask` latency next to the embedding of the same question, alternating, same process."""
    for question in questions[:5]:
        assistant.ask(question)
    asks, floors = [], []
    for question in questions:
        floors.append(timed(lambda q=question: embedder.encode([q])))
        asks.append(timed(lambda q=question: assistant.ask(q)))
    ask, floor = percentiles(asks), percentiles(floors)
    ratio = ask["p50_ms"] / floor["p50_ms"]
    return {
        "questions": len(questions),
        "ask": ask,
        "floor": floor,
        "ask_p50_over_floor": round(ratio, 2),
        "target": target,
        "target_met": ratio <= target,
    }


def batch(assistant: Any, embedder: Any, questions: Sequence[str], size: int = 32) -> dict:
    """`ask_many` throughput in batches of `size`, next to batched embedding alone."""
    chunks = [list(questions[i : i + size]) for i in range(0, len(questions), size)]
    asked = sum(timed(lambda c=c: assistant.ask_many(c)) for c in chunks)
    encoded = sum(timed(lambda c=c: embedder.encode(c)) for c in chunks)
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
    # Over 60 lines: the measurements in the order they run, each a call and its log line.
    from ..assistant import DEFAULT_CORPUS
    from ..corpus import load_corpus  # noqa: F401  (imported before timing anything)
    from ..embed import Embedder
    from ..eval.data import read_gold_jsonl

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
        "settings": {"fetch": SETTINGS.fetch, "fused": SETTINGS.passages, "questions": len(asked)},
    }
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        embedder = embedder or Embedder()
        log("building the index for the warm and cold measurements")
        assistant, result["build"] = build(corpus, embedder, Path(tmp) / "index")
        log(f"warm ask over {len(asked)} questions")
        goal = TARGETS["ask_p50_over_floor"]
        result["warm_ask"] = {"corpus": str(corpus), **warm_ask(assistant, embedder, asked, goal)}
        log("warm ask again with the reader after the trees")
        reading = assistant.with_scorer("reader")
        goal = TARGETS["reader_ask_p50_over_floor"]
        result["warm_ask_reader"] = warm_ask(reading, embedder, asked, goal)
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
        "question, timed right before it in the same process. 'with the reader': the same "
        "questions through the trees and then the reader on their best 5 (scorer='reader').",
        "batch: Assistant.ask_many in batches of 32 questions; floor: Embedder.encode of the "
        "same batches.",
        "build: Assistant.from_corpus(rebuild=True) (encodes passages and sentences, BM25, "
        "faiss, saves the index) vs Embedder.encode of exactly those texts; peak RSS of the "
        "bench process during the build, the model included.",
        "cold start: fresh `python -c` processes, spawn to the first answer "
        "(rag.Assistant.from_corpus on a saved index + ask) vs spawn to one question embedded "
        "by a bare SentenceTransformer; median over runs.",
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
