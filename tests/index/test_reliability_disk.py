"""Reliability: a read-only index is read; a full disk is one line, and answers go on."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rag import cli
from rag.assistant import Assistant
from rag.errors import IndexWriteError
from rag.index.store import CURRENT

from ..conftest import CORPUS, FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "How much did Xinjiang live-streaming sales grow?"
TIBET = "Tibet live-streaming sales grew 31 percent in 2024, the regional bureau said."


def full_disk(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def stale(corpus_copy: Path, tmp_path: Path, fake_embedder) -> tuple[Path, Path, str]:
    """A corpus with an article added since its index was built: (corpus, index, generation)."""
    index = tmp_path / "index"
    Assistant.from_corpus(corpus_copy, index, embedder=fake_embedder)
    (corpus_copy / "006_tibet.txt").write_text(TIBET)
    return corpus_copy, index, (index / CURRENT).read_text()


def test_a_current_index_is_read_without_the_lock(tmp_path: Path, fake_embedder, monkeypatch):
    index = tmp_path / "index"
    Assistant.from_corpus(CORPUS, index, embedder=fake_embedder)
    # Opening index/.lock for writing is what a read-only folder refuses.
    monkeypatch.setattr("rag.index.index.build_lock", lambda _: full_disk())
    again = Assistant.from_corpus(CORPUS, index, embedder=fake_embedder)
    assert not again.build_report.rebuilt
    assert any("56 percent" in e.text for e in again.ask(QUESTION).evidence)


def test_a_full_disk_answers_from_the_last_good_generation_with_one_line(
    stale, fake_embedder, monkeypatch, caplog
) -> None:
    corpus, index, before = stale
    monkeypatch.setattr("rag.index.store.np.save", full_disk)
    with caplog.at_level(logging.WARNING, logger="rag.index.index"):
        assistant = Assistant.from_corpus(corpus, index, embedder=fake_embedder)
    said = [r.getMessage() for r in caplog.records if r.name == "rag.index.index"]
    assert said[0].startswith("updating the index in")  # what it tried first
    [warning] = [line for line in said if "cannot be written" in line]
    assert "cannot be written (No space left on device); answering from the last good" in warning
    assert "\n" not in warning and assistant.build_report.reason.startswith("stale")
    assert len(assistant.articles) == 5  # the article added since is not served, the rest is
    assert any("56 percent" in e.text for e in assistant.ask(QUESTION).evidence)
    assert (index / CURRENT).read_text() == before and not list(index.glob(".tmp-*"))
    # Building is what was asked of `rag index`: one line that says what to do, exit status 2.
    with pytest.raises(IndexWriteError, match="free space or make it writable, then run"):
        Assistant.from_corpus(corpus, index, embedder=fake_embedder, stale_ok=False)


def test_rag_index_on_a_full_disk_prints_one_line(stale, monkeypatch, capsys) -> None:
    corpus, index, _ = stale
    monkeypatch.setattr("rag.assistant.Embedder", lambda *_: FakeEmbedder())
    monkeypatch.setattr("rag.index.store.np.save", full_disk)
    assert cli.main(["index", "--corpus", str(corpus), "--index", str(index)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("rag index: error: the index in") and "Traceback" not in err


def test_an_edited_article_leaves_no_old_generation_to_serve(stale, fake_embedder, monkeypatch):
    corpus, index, _ = stale
    first = sorted(corpus.glob("0*.txt"))[0]
    first.write_text(first.read_text() + "\nA late correction.")
    monkeypatch.setattr("rag.index.store.np.save", full_disk)
    with pytest.raises(IndexWriteError, match="nor an old one served .*changed or removed"):
        Assistant.from_corpus(corpus, index, embedder=fake_embedder)


# A question in another process, as an unprivileged user: root ignores permission bits.
ASK = """
import sys
from rag.assistant import Assistant
from tests.conftest import FakeEmbedder
assistant = Assistant.from_corpus(sys.argv[1], sys.argv[2], embedder=FakeEmbedder())
print(len(assistant.articles), assistant.ask(sys.argv[3]).evidence[0].text)
"""


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become nobody"
)
def test_a_read_only_index_answers_as_an_unprivileged_user(fake_embedder) -> None:
    work = Path(tempfile.mkdtemp(prefix="rag-readonly-"))
    try:
        corpus, index = work / "corpus", work / "index"
        shutil.copytree(CORPUS, corpus)
        Assistant.from_corpus(corpus, index, embedder=fake_embedder)
        home = work / "home"
        home.mkdir()
        os.chown(home, 65534, 65534)
        for path in [work, *work.rglob("*")]:
            if path != home and home not in path.parents:
                mode = path.stat().st_mode
                path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) | 0o555)

        def ask() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                 sys.executable, "-c", ASK, str(corpus), str(index), QUESTION],
                cwd=ROOT, capture_output=True, text=True, timeout=300,
                env={**os.environ, "HOME": str(home), "HF_HUB_OFFLINE": "1"},
            )  # fmt: skip

        current = ask()
        assert current.returncode == 0, current.stderr
        assert current.stdout.startswith("5 ") and "56 percent" in current.stdout
        # Stale too: an article added that the read-only index cannot take in.
        corpus.chmod(0o755)
        (corpus / "006_tibet.txt").write_text(TIBET)
        corpus.chmod(0o555)
        stale = ask()
        assert stale.returncode == 0 and stale.stdout.startswith("5 "), stale.stderr
        lines = stale.stderr.strip().splitlines()
        assert "Traceback" not in stale.stderr and len(lines) == 1
        assert "cannot be written (Permission denied); answering from the last good" in lines[0]
    finally:
        for path in [work, *work.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(work, ignore_errors=True)
