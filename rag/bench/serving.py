"""Serving: cold start through `rag ask`, the torch path beside ONNX, a `rag serve` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..index.embed import Progress
from .load import JSON_KINDS, KINDS, LoadResult, run_load
from .measure import ROOT, TARGETS, peak_rss_mb, percentiles, timed

QUESTION = "How much did Xinjiang live-streaming sales grow?"

# Each child prints the seconds from just before spawning the measured process to its exit,
# and that process's peak RSS in kB (RUSAGE_CHILDREN: this wrapper has no other child).
_TIMED_CHILD = """
import resource, subprocess, sys, time
started = time.perf_counter()
subprocess.run({command!r}, check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
_FLOOR = """
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sentence_transformers import SentenceTransformer
from rag.index.embed import packaged_model_path
model = SentenceTransformer(str(packaged_model_path()), device="cpu", local_files_only=True)
model.encode(["{question}"], normalize_embeddings=True, convert_to_numpy=True)
"""


class TorchEmbedder:
    """The packaged model in sentence-transformers on torch: the path ONNX Runtime replaced.

    Its identity is the ONNX embedder's, as its vectors are the same (to 1e-6): both can
    answer from one index.
    """

    def __init__(self, identity: str) -> None:
        from sentence_transformers import SentenceTransformer

        from ..index.embed import packaged_model_path

        self._model = SentenceTransformer(
            str(packaged_model_path()), device="cpu", local_files_only=True
        )
        self.identity = identity
        self.dimension = int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], *, progress: Progress = False) -> np.ndarray:
        vectors = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=progress is True,
        )
        if callable(progress):
            progress(len(texts))
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    encode_questions = encode


def cold_start(corpus: Path, index_dir: Path, runs: int) -> dict[str, Any]:
    """Spawn to exit of `rag ask` on a saved index, and of a bare sentence-transformers model
    embedding one question (the floor); interleaved, median over `runs`."""
    if runs < 1:
        return {"skipped": True}
    commands = {
        "floor": [sys.executable, "-c", _FLOOR.format(question=QUESTION)],
        "first_answer": [sys.executable, "-m", "rag.cli", "ask", QUESTION,
                         "--corpus", str(corpus), "--index", str(index_dir)],
    }
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, float] = {}
    for _ in range(runs):
        for name, command in commands.items():  # interleaved, so load drifts hit both alike
            done = subprocess.run(
                [sys.executable, "-c", _TIMED_CHILD.format(command=command)],
                env=env, cwd=ROOT, capture_output=True, text=True, check=True,
            )
            took, peak_kb = done.stdout.split()[-2:]
            seconds[name].append(float(took))
            rss[name] = int(peak_kb) / 1024
    floor, answer = (float(np.median(seconds[n])) for n in ("floor", "first_answer"))
    return {
        "runs": runs,
        "floor_s": round(floor, 3),
        "first_answer_s": round(answer, 3),
        "over_floor": round(answer / floor, 3),
        "floor_peak_rss_mb": round(rss["floor"], 1),
        "first_answer_peak_rss_mb": round(rss["first_answer"], 1),
        "target_met": answer <= TARGETS["cold_start_s"]
        and answer / floor <= TARGETS["cold_start_over_floor"],
    }


def warm_ask(
    assistant: Any,
    torch_path: Any,
    floor: Any,
    questions: Sequence[str],
    target: float,
    target_p95: float | None = None,
) -> dict[str, Any]:
    """`ask` through ONNX Runtime and through torch, and the torch model embedding the same
    question alone (the floor), alternating question by question in one process."""
    for question in questions[:5]:
        assistant.ask(question)
        torch_path.ask(question)
    asks, torch_asks, floors = [], [], []
    for question in questions:
        floors.append(timed(lambda q=question: floor.encode([q])))
        asks.append(timed(lambda q=question: assistant.ask(q)))
        torch_asks.append(timed(lambda q=question: torch_path.ask(q)))
    ask, torch_ask, base = percentiles(asks), percentiles(torch_asks), percentiles(floors)
    ratio = ask["p50_ms"] / base["p50_ms"]
    ratio_p95 = ask["p95_ms"] / base["p95_ms"]
    return {
        "questions": len(questions),
        "ask": ask,
        "ask_torch": torch_ask,
        "floor": base,
        "ask_p50_over_floor": round(ratio, 2),
        "ask_p95_over_floor": round(ratio_p95, 2),
        "ask_p50_over_torch": round(ask["p50_ms"] / torch_ask["p50_ms"], 2),
        "target": target,
        "target_p95": target_p95,
        "target_met": ratio <= target
        and (target_p95 is None or ratio_p95 <= target_p95)
        and ask["p50_ms"] <= torch_ask["p50_ms"],
    }


def served(corpus: Path, index_dir: Path, clients: int, questions_each: int) -> dict[str, Any]:
    """`rag serve` in a process of its own under the JSON load, then the gradio load; its
    peak RSS over both."""
    if clients < 1:
        return {"skipped": True}
    with rag_serve(corpus, index_dir) as server:
        loads = {
            api: run_load(server.url, clients=clients, questions_each=questions_each, api=api)
            for api in ("json", "gradio")
        }
        peak = peak_rss_mb(server.pid)
    json_load = loads["json"]
    json_row = load_row(json_load, JSON_KINDS)
    json_row["target_met"] = (
        json_row["target_met"]
        and json_load.requests_per_s >= TARGETS["json_requests_per_s"]
        and json_load.p95_s["ok"] * 1000 <= TARGETS["json_p95_ms"]
    )
    return {
        "ready_s": round(server.ready_s, 2),
        "peak_rss_mb": round(peak, 1),
        "rss_target_met": peak <= TARGETS["serving_rss_mb"],
        "json": json_row,
        "gradio": load_row(loads["gradio"], KINDS),
    }


@dataclass(frozen=True)
class Server:
    """A `rag serve` process that answers: where, its process id, and how long it took."""

    url: str  # ends with "/"
    pid: int
    ready_s: float  # from spawning it to its first healthy answer


@contextmanager
def rag_serve(corpus: Path, index_dir: Path) -> Iterator[Server]:
    """`rag serve` on `corpus` and `index_dir` in a process of its own, at a free local port,
    once it answers; stopped on leaving."""
    from ui.server import free_port

    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--corpus", str(corpus), "--index",
         str(index_dir), "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(url + "api/health", process)
        yield Server(url, process.pid, time.perf_counter() - started)
    finally:
        process.terminate()
        process.wait(timeout=30)


def load_row(load: LoadResult, kinds: Sequence[str]) -> dict[str, Any]:
    """A load's bench.json row, latencies of `kinds` (of its mix, or "all"); `target_met`: no
    request failed and the server still answered afterwards (a caller adds its own targets)."""
    return {
        "clients": load.clients,
        "questions_each": load.questions_each,
        "requests": load.requests,
        "elapsed_s": round(load.elapsed_s, 3),
        "requests_per_s": round(load.requests_per_s, 2),
        "latency": {
            kind: {"p50_ms": round(load.p50_s[kind] * 1000, 1),
                   "p95_ms": round(load.p95_s[kind] * 1000, 1)}
            for kind in kinds
        },
        "failures": len(load.failures),
        "failed": list(load.failures[:10]),
        "still_up": load.still_up,
        "target_met": not load.failures and load.still_up,
    }


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`rag serve` exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if json.loads(response.read()).get("status") == "ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"`rag serve` did not answer {url} within {timeout:.0f} s")
