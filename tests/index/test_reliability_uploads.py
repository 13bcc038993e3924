"""Reliability: an upload killed mid-build is settled at the next start; a stale index speaks."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag import cli
from rag.assistant import Assistant
from rag.index.store import CURRENT
from rag.index.upload import JOURNAL, UPLOADS, recover_uploads

from ..conftest import FakeEmbedder
from .test_reliability_index import wait_for

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = ROOT / "tests" / "fixtures" / "uploads" / "guangzhou-retail.md"
QUESTION = "How much did Xinjiang live-streaming sales grow?"
# An upload in its own process whose index build writes slowly, to be killed while it does.
CHILD = """
import sys, time
from pathlib import Path
import numpy as np
from rag.assistant import Assistant
from tests.conftest import FakeEmbedder
from ui.library import Library
corpus, index, article = sys.argv[1:4]
real_save = np.save
np.save = lambda *a, **k: (time.sleep(0.5), real_save(*a, **k))[1]
library = Library(Assistant.from_corpus(corpus, index, embedder=FakeEmbedder()), corpus, index)
library.add([("guangzhou-retail.md", Path(article))])
print("FINISHED", flush=True)
"""


@pytest.fixture
def fake_model(monkeypatch) -> None:
    """The command line with the instant embedder in place of the real model."""
    monkeypatch.setattr("rag.assistant.Embedder", lambda *_: FakeEmbedder())


@pytest.fixture
def indexed(corpus_copy: Path, tmp_path: Path, fake_embedder) -> tuple[Path, Path]:
    index = tmp_path / "index"
    Assistant.from_corpus(corpus_copy, index, embedder=fake_embedder)
    return corpus_copy, index


def ask(corpus: Path, index: Path, *more: str) -> int:
    return cli.main(["ask", QUESTION, "--corpus", str(corpus), "--index", str(index), *more])


def test_an_upload_killed_mid_build_leaves_the_corpus_at_the_next_start(
    indexed, fake_model, capsys
) -> None:
    corpus, index = indexed
    before = (index / CURRENT).read_text()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(index), str(ARTICLE)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    try:
        saving = lambda: any(p.is_file() for p in index.glob(".tmp-*/*"))  # noqa: E731
        wait_for(lambda: saving() or child.poll() is not None)
        assert child.poll() is None, child.communicate()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    uploads = corpus / UPLOADS
    assert (uploads / "guangzhou-retail.md").exists() and (uploads / JOURNAL).exists()
    # The next command takes the unconfirmed file out again, says so, and answers at once.
    assert ask(corpus, index) == 0
    out = capsys.readouterr()
    assert out.err.splitlines()[0] == (
        "an interrupted upload was never indexed; took uploads/guangzhou-retail.md out of the "
        "corpus again"
    )
    assert "Answer:" in out.out and (index / CURRENT).read_text() == before
    assert sorted(p.name for p in uploads.iterdir()) == []


def test_an_upload_whose_generation_was_committed_stays(indexed) -> None:
    corpus, index = indexed
    uploads = corpus / UPLOADS
    uploads.mkdir()
    (uploads / "kept.md").write_bytes(ARTICLE.read_bytes())
    journal = {"before": "gen-older", "files": ["uploads/kept.md"]}  # CURRENT has moved on
    (uploads / JOURNAL).write_text(json.dumps(journal))
    (uploads / ".staging-x").mkdir()  # a killed upload's half-read files
    assert recover_uploads(corpus, index) == [
        "an interrupted upload was indexed before it stopped; kept uploads/kept.md"
    ]
    assert sorted(p.name for p in uploads.iterdir()) == ["kept.md"]
    assert recover_uploads(corpus, index) == []  # settled once


def test_a_stale_index_says_it_is_updating_or_answers_as_built(
    indexed, fake_model, caplog, capsys
) -> None:
    corpus, index = indexed
    (corpus / "006_tibet.txt").write_text("Tibet live-streaming sales grew 31 percent in 2024.")
    before = (index / CURRENT).read_text()
    with caplog.at_level(logging.WARNING, logger="rag.index.index"):
        assert ask(corpus, index, "--as-built") == 0
    [warning] = [r.getMessage() for r in caplog.records]
    assert "the corpus changed since the index in" in warning and "as built" in warning
    assert (index / CURRENT).read_text() == before and "Answer:" in capsys.readouterr().out
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rag.index.index"):
        assert ask(corpus, index) == 0
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning == f"updating the index in {index} (corpus, model or settings changed)"
    assert (index / CURRENT).read_text() != before
