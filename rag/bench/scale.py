"""The full Assistant at 10k to 1M passages: generated corpora, measured in fresh processes."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..settings import DEFAULT_CORPUS
from .measure import peak_rss_mb

SENTENCES_PER_ARTICLE = 21  # 10 passages of 3 sentences every 2
BASE_VECTORS = 512  # real embeddings that the synthetic vectors are mixed from
NOISE = 0.35  # spread of a synthetic vector around its two bases
ADDED_ARTICLE = DEFAULT_CORPUS / "004_62637a1ca6fb8c94.txt"
_WORD = re.compile(r"[^\W\d_]+|\d+(?:\.\d+)?")


def write_corpus(target: Path, passages: int, squad_files: Sequence[Path], seed: int = 0) -> dict:
    """A folder of about `passages` passages: the real SQuAD articles, then generated ones.

    Generated sentences draw their words from the real articles' word frequencies and their
    lengths from the real sentence lengths: the posting lists and lengths BM25 sees follow the
    real text, the meaning does not. Returns what was written.
    """
    from ..eval.data import read_squad
    from ..ingest.passages import passage_table, sentence_table
    from ..ingest.text import split_sentences

    target.mkdir(parents=True, exist_ok=True)
    count = written = 0
    words: list[str] = []
    lengths: list[int] = []
    for path in squad_files:
        articles = read_squad(path).articles
        for article in articles:
            if count >= passages:
                break
            name = f"squad_{written:07d}.txt"
            (target / name).write_text(f"{article.title}\n\n{article.text}\n", encoding="utf-8")
            written += 1
            count += len(passage_table(sentence_table([article]), window=3, stride=2))
            for start, end in split_sentences(article.text):
                sentence = _WORD.findall(article.text[start:end])
                words += sentence
                lengths.append(len(sentence))
    real = written
    rng = np.random.default_rng(seed)
    vocabulary, inverse = np.unique(np.asarray(words), return_inverse=True)
    frequency = np.bincount(inverse) / len(inverse)
    per_article = (SENTENCES_PER_ARTICLE - 1) // 2
    while count < passages:
        sizes = rng.choice(lengths, size=SENTENCES_PER_ARTICLE)
        drawn = vocabulary[rng.choice(len(vocabulary), size=int(sizes.sum()), p=frequency)]
        sentences, start = [], 0
        for size in sizes.tolist():
            chunk = drawn[start : start + size].tolist()
            start += size
            sentences.append(" ".join(chunk).capitalize() + ".")
        title = f"Generated article {written}"
        body = " ".join(sentences)
        (target / f"gen_{written:07d}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        written += 1
        count += per_article
    return {"articles": written, "real_articles": real, "passages_approx": count}


class SyntheticEmbedder:
    """Stands in for the model while building a big index: unit vectors near real embeddings.

    It carries the real model's identity, so the index it builds is the one the real model
    reloads, and its vectors are what the embedding cache reuses when an article is added.
    """

    def __init__(self, real: Any, bases: np.ndarray, seed: int = 0) -> None:
        self.identity = real.identity
        self.dimension = real.dimension
        self._bases = bases
        self._rng = np.random.default_rng(seed)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return synthetic_vectors(self._bases, len(texts), self._rng)

    encode_questions = encode


def synthetic_vectors(bases: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around real embeddings: each a random mix of two bases plus Gaussian noise."""
    dimension = bases.shape[1]
    out = np.empty((count, dimension), dtype=np.float32)
    for lo in range(0, count, 10_000):  # chunks keep the temporaries small
        n = min(10_000, count - lo)
        mix = rng.uniform(0.5, 1.0, size=(n, 1)).astype(np.float32)
        a = bases[rng.integers(len(bases), size=n)]
        b = bases[rng.integers(len(bases), size=n)]
        noise = rng.standard_normal((n, dimension), dtype=np.float32) / np.sqrt(dimension)
        chunk = mix * a + (1 - mix) * b + NOISE * noise
        out[lo : lo + n] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def build_child(corpus: Path, index: Path) -> dict[str, Any]:
    """Build the index of `corpus` with synthetic vectors; time and peak memory."""
    from ..assistant import Assistant
    from ..eval.data import read_squad
    from ..index.embed import Embedder

    real = Embedder()
    texts = [
        article.text[:1000] for path in _squad_paths() for article in read_squad(path).articles
    ]
    bases = real.encode(random.Random(0).sample(texts, min(BASE_VECTORS, len(texts))))
    before = peak_rss_mb()
    started = time.perf_counter()
    assistant = Assistant.from_corpus(
        corpus, index, embedder=SyntheticEmbedder(real, bases), rebuild=True
    )
    seconds = time.perf_counter() - started
    return {
        "passages": len(assistant.index.passages),
        "sentences": len(assistant.index.sentences),
        "articles": len(assistant.articles),
        "dense_kind": assistant.index.dense.kind,
        "build_s": round(seconds, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "model_rss_mb": round(before, 1),
    }


def serve_child(corpus: Path, index: Path, questions: int) -> dict[str, Any]:
    """Load the index with the real model, time `ask` next to its floor, then add an article."""
    from ..assistant import Assistant
    from ..eval.data import read_squad
    from ..index.embed import Embedder
    from .measure import percentiles

    started = time.perf_counter()
    real = Embedder()
    assistant = Assistant.from_corpus(corpus, index, embedder=real)
    loaded = time.perf_counter() - started
    if assistant.build_report.rebuilt:  # the build step's index should have been reloaded
        raise RuntimeError(f"index rebuilt instead of loaded: {assistant.build_report.reason}")
    asked = [pair.question for pair in read_squad(_squad_paths()[0]).pairs]
    asked = random.Random(0).sample(asked, min(questions, len(asked)))
    for question in asked[:5]:
        assistant.ask(question)
    asks, floors = [], []
    for question in asked:
        start = time.perf_counter()
        real.encode_questions([question])
        floors.append(time.perf_counter() - start)
        start = time.perf_counter()
        assistant.ask(question)
        asks.append(time.perf_counter() - start)
    serving_peak = peak_rss_mb()
    del assistant
    added = corpus / "added_article.txt"
    added.write_bytes(ADDED_ARTICLE.read_bytes())
    try:
        start = time.perf_counter()
        assistant = Assistant.from_corpus(corpus, index, embedder=real)
        add_seconds = time.perf_counter() - start
    finally:
        added.unlink()
    report = assistant.build_report
    return {
        "load_s": round(loaded, 2),
        "questions": len(asked),
        "ask": percentiles(asks),
        "floor": percentiles(floors),
        "serving_peak_rss_mb": round(serving_peak, 1),
        "add_article": {
            "seconds": round(add_seconds, 2),
            "encoded": report.encoded,
            "reused": report.reused,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    }


def _squad_paths() -> list[Path]:
    from .measure import DATA, SQUAD_FILES

    return [DATA / name for name in SQUAD_FILES]


def at_size(passages: int, workdir: Path, questions: int) -> dict[str, Any]:
    """Write the corpus, build its index in one fresh process, serve it from another."""
    corpus, index = workdir / f"corpus-{passages}", workdir / f"index-{passages}"
    started = time.perf_counter()
    written = write_corpus(corpus, passages, _squad_paths())
    row: dict[str, Any] = {"target_passages": passages, "corpus": written}
    row["corpus"]["write_s"] = round(time.perf_counter() - started, 2)
    shutil.rmtree(index, ignore_errors=True)  # a build from scratch: nothing cached to reuse
    row["build"] = _child("build", corpus, index)
    row["serve"] = _child("serve", corpus, index, questions)
    return row


def _child(step: str, corpus: Path, index: Path, questions: int = 200) -> dict[str, Any]:
    code = (
        "from rag.bench.scale import run_step; "
        f"run_step({step!r}, {str(corpus)!r}, {str(index)!r}, {questions})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"rag.bench.scale {step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def run_step(step: str, corpus: str, index: str, questions: int) -> None:
    """One step in this (fresh) process; prints its result as a JSON line."""
    if step == "build":
        result = build_child(Path(corpus), Path(index))
    else:
        result = serve_child(Path(corpus), Path(index), questions)
    print(json.dumps(result))
