"""`rag bench --peers`: the same questions and sentences through Haystack 2.x and txtai beside us.

Each system runs in a fresh process (`python -m rag.bench.peers SYSTEM ...`), the systems
round-robin for `rounds` rounds: cold start (process start to first answer), warm p50/p95 over
the questions, peak RSS, and top-1 sentence accuracy (the first sentence returned holds a gold
answer). The peers retrieve and do not read: each indexes the corpus's cleaned sentences, one
document a sentence, with the same MiniLM model, BM25 beside it, fused by reciprocal rank.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SYSTEMS = ("rag-news", "haystack", "txtai")
TOP_K = 10  # each retriever's list before fusion


def available() -> list[str]:
    """The systems whose packages are installed (the `peers` extra brings the other two)."""
    import importlib.util

    needs = {"rag-news": None, "haystack": "haystack", "txtai": "txtai"}
    return [s for s, module in needs.items() if module is None or importlib.util.find_spec(module)]


def run_peers(
    corpus: Path,
    gold: Path,
    *,
    rounds: int = 3,
    questions: int | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The peers' table over `corpus` and the answerable questions of `gold`."""
    systems = available()
    missing = sorted(set(SYSTEMS) - set(systems))
    log("rag-news: its index built once, before the timed rounds (the peers index in memory)")
    _fresh("rag-news", corpus, gold, 1)
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    for number in range(1, rounds + 1):
        for system in systems:  # round-robin: a slow spell of the machine hits each alike
            log(f"round {number}/{rounds}: {system}")
            runs[system].append(_fresh(system, corpus, gold, questions))
    rows = {system: _median(done) for system, done in runs.items()}
    result = {"rounds": rounds, "rows": rows, "missing": missing}
    result["table"] = peers_table(result)
    return result


def _fresh(system: str, corpus: Path, gold: Path, questions: int | None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, "-m", "rag.bench.peers", system, str(corpus), str(gold),
                   out.name, str(questions or 0)]  # fmt: skip
        started = time.time()  # the child's clock is the same wall clock
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"{system} failed:\n{done.stderr[-3000:]}")
        row = json.loads(Path(out.name).read_text())
    row["cold_s"] = row["first_answer_at"] - started
    return row


def _median(done: Sequence[dict[str, Any]]) -> dict[str, Any]:
    keys = ("cold_s", "p50_ms", "p95_ms", "peak_rss_mb")
    row = {key: round(statistics.median(r[key] for r in done), 3) for key in keys}
    row.update(accuracy=done[0]["accuracy"], questions=done[0]["questions"])
    return row


def peers_table(result: dict[str, Any]) -> str:
    """The Markdown table of one `rag bench --peers` run."""
    lines = [
        f"| system | cold start | warm p50 / p95 | peak RSS | top-1 sentence accuracy "
        f"({next(iter(result['rows'].values()))['questions']} q) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for system, r in result["rows"].items():
        lines.append(
            f"| {system} | {r['cold_s']:.2f} s | {r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms | "
            f"{r['peak_rss_mb']:.0f} MB | {r['accuracy']:.3f} |"
        )
    if result["missing"]:
        lines.append(
            f"\n(not installed: {', '.join(result['missing'])}; `pip install rag-news[peers]`)"
        )
    return "\n".join(lines)


# --- one system, in its own process --------------------------------------------------------


def _sentences(corpus: Path) -> list[str]:
    from ..ingest.corpus import load_corpus
    from ..ingest.text import split_sentences

    return [
        " ".join(article.text[a:b].split())
        for article in load_corpus(corpus).articles
        for a, b in split_sentences(article.text)
    ]


def _model_path() -> str:
    from ..index.embed import packaged_model_path

    return str(packaged_model_path())


def _ours(corpus: Path) -> Callable[[str], str]:
    from ..assistant import Assistant
    from ..index.store import index_for

    assistant = Assistant.from_corpus(corpus, index_for(str(corpus), None))

    def ask(question: str) -> str:
        answer = assistant.ask(question)
        return answer.evidence[0].text if answer.evidence else ""

    return ask


def _haystack(corpus: Path) -> Callable[[str], str]:
    from haystack import Document, Pipeline
    from haystack.components.embedders import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    store = InMemoryDocumentStore()
    embedder = SentenceTransformersDocumentEmbedder(
        model=_model_path(), local_files_only=True, progress_bar=False
    )
    embedder.warm_up()
    store.write_documents(
        embedder.run([Document(content=s) for s in _sentences(corpus)])["documents"]
    )
    pipeline = Pipeline()
    pipeline.add_component(
        "embed",
        SentenceTransformersTextEmbedder(
            model=_model_path(), local_files_only=True, progress_bar=False
        ),  # fmt: skip
    )
    pipeline.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=TOP_K))
    pipeline.add_component("bm25", InMemoryBM25Retriever(store, top_k=TOP_K))
    pipeline.add_component("join", DocumentJoiner(join_mode="reciprocal_rank_fusion"))
    pipeline.connect("embed.embedding", "dense.query_embedding")
    pipeline.connect("dense", "join")
    pipeline.connect("bm25", "join")

    def ask(question: str) -> str:
        found = pipeline.run({"embed": {"text": question}, "bm25": {"query": question}})
        documents = found["join"]["documents"]
        return documents[0].content if documents else ""

    return ask


def _txtai(corpus: Path) -> Callable[[str], str]:
    from txtai import Embeddings

    embeddings = Embeddings(path=_model_path(), hybrid=True, content=True)
    embeddings.index(_sentences(corpus))

    def ask(question: str) -> str:
        found = embeddings.search(question, 1)
        return found[0]["text"] if found else ""

    return ask


SETUPS = {"rag-news": _ours, "haystack": _haystack, "txtai": _txtai}


def _one(system: str, corpus: Path, gold: Path, out: Path, limit: int) -> None:
    from ..eval.data import read_gold_jsonl
    from ..eval.metrics import contains_answer
    from .measure import peak_rss_mb

    pairs = [p for p in read_gold_jsonl(gold) if p.answerable]
    pairs = pairs[:limit] if limit else pairs
    ask = SETUPS[system](corpus)
    ask(pairs[0].question)
    first_answer_at = time.time()
    for pair in pairs[:5]:  # warm
        ask(pair.question)
    seconds, right = [], 0
    for pair in pairs:
        started = time.perf_counter()
        top = ask(pair.question)
        seconds.append(time.perf_counter() - started)
        right += contains_answer(top, pair.answers)
    seconds.sort()
    row = {
        "system": system,
        "questions": len(pairs),
        "first_answer_at": first_answer_at,
        "p50_ms": seconds[len(seconds) // 2] * 1000,
        "p95_ms": seconds[min(len(seconds) - 1, int(len(seconds) * 0.95))] * 1000,
        "peak_rss_mb": peak_rss_mb(),
        "accuracy": round(right / len(pairs), 4),
    }
    out.write_text(json.dumps(row))


if __name__ == "__main__":
    name, corpus_dir, gold_file, out_file, limit = sys.argv[1:6]
    _one(name, Path(corpus_dir), Path(gold_file), Path(out_file), int(limit))
