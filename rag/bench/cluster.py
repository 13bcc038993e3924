"""`rag bench --cluster`: build throughput on 1 and 2 local Ray nodes, and asking through Serve."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .measure import DATA, ROOT, peak_rss_mb, percentiles

DEFAULT_OUT = ROOT / "results" / "bench-cluster.json"
SHARDS = 2
QUESTIONS = 200
BUILD_RUNS = 2  # builds timed per configuration; the faster is kept (the first warms caches)


def run_cluster_bench(out: Path | None = DEFAULT_OUT, log: Callable[[str], None] = print) -> dict:
    """Build the SQuAD dev corpus in one process, then on a 1-node and a 2-node local cluster
    (2 shards); ask 200 of its questions in process, through shards in process, and through
    the Serve front; write `out`."""
    import ray

    from ..assistant import Assistant
    from ..cluster.build import build_on_cluster, connect
    from ..cluster.local import local_cluster
    from ..cluster.serve import APP, ClusterAssistant, deploy
    from ..eval.data import read_squad, write_squad_corpus
    from ..index.embed import Embedder
    from ..index.shards import ShardedIndex, build_shards
    from ..settings import Settings

    squad = read_squad(DATA / "squad2_dev_subset.json")
    work = Path(tempfile.mkdtemp(prefix="rag-bench-cluster-"))
    corpus = write_squad_corpus(squad, work / "corpus")
    questions = sample_questions(squad, QUESTIONS)
    embedder = Embedder()
    result: dict[str, Any] = {"corpus": "squad2_dev_subset.json", "shards": SHARDS, "builds": {}}

    log("building in this process (2 shards, no Ray)")
    result["builds"]["one process"] = _build(
        lambda: build_shards(corpus, work / "local", SHARDS, embedder, Settings(), rebuild=True)
    )
    for nodes in (1, 2):
        log(f"building on a local cluster of {nodes} node(s)")
        with local_cluster(nodes) as cluster:
            connect(cluster.address)
            folder = work / f"nodes-{nodes}"
            row = _build(
                lambda c=cluster, f=folder: build_on_cluster(
                    c.address, corpus, f, SHARDS, rebuild=True
                )[0]
            )
            result["builds"][f"{nodes} node(s)"] = row
            if nodes == 2:
                log("asking through the Serve front deployment")
                remote = ClusterAssistant(deploy(folder))
                one = Assistant.from_corpus(corpus, work / "single", embedder=embedder)
                sharded = Assistant.over(ShardedIndex.load(folder), embedder, Settings())
                result["ask_ms"] = {
                    "one index, in process": _latency(one, questions),
                    "shards, in process": _latency(sharded, questions),
                    "Serve front (2 shards)": _latency(remote, questions),
                }
                result["peak_rss_mb"] = _cluster_rss()
                ray.serve.delete(APP)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
    result["table"] = table(result)
    return result


def sample_questions(squad: Any, count: int) -> list[str]:
    """`count` questions spread evenly over a SQuAD file: every article, answerable and not."""
    return [pair.question for pair in squad.pairs][:: len(squad.pairs) // count][:count]


def _build(build: Callable[[], Any]) -> dict[str, Any]:
    times, report = [], None
    for _ in range(BUILD_RUNS):
        started = time.perf_counter()
        report = build()
        times.append(time.perf_counter() - started)
    best = min(times)
    return {
        "seconds": round(best, 2),
        "texts_embedded": report.encoded,
        "texts_per_s": round(report.encoded / best, 1),
        "passages": report.passages,
    }


def _latency(assistant: Any, questions: list[str]) -> dict[str, float]:
    assistant.ask(questions[0])  # warm
    seconds = []
    for question in questions:
        started = time.perf_counter()
        assistant.ask(question)
        seconds.append(time.perf_counter() - started)
    return percentiles(seconds)


RAY_KINDS = (
    "ServeReplica:rag:front",
    "ServeReplica:rag:shard",
    "ServeController",
    "raylet",
    "gcs_server",
)


def _cluster_rss() -> dict[str, float]:
    """Peak RSS of the Ray processes on this machine, summed by kind (replicas, raylets...)."""
    out: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        try:
            line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            kind = next((k for k in RAY_KINDS if k in line), None)
            if kind:
                out[kind] = round(out.get(kind, 0.0) + peak_rss_mb(proc.name), 1)
        except (OSError, StopIteration):
            continue  # not a process, or gone meanwhile
    return out


def table(result: dict[str, Any]) -> str:
    """The bench as a Markdown table."""
    lines = [
        "| build (2 shards) | seconds | texts embedded | texts/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, row in result["builds"].items():
        lines.append(
            f"| {name} | {row['seconds']} | {row['texts_embedded']:,} | {row['texts_per_s']} |"
        )
    lines += ["", "| ask, 200 SQuAD questions | p50 ms | p95 ms |", "| --- | ---: | ---: |"]
    for name, row in result.get("ask_ms", {}).items():
        lines.append(f"| {name} | {row['p50_ms']} | {row['p95_ms']} |")
    if result.get("peak_rss_mb"):
        lines += ["", "| process (peak RSS, summed) | MB |", "| --- | ---: |"]
        lines += [f"| {kind} | {mb} |" for kind, mb in result["peak_rss_mb"].items()]
    return "\n".join(lines)
