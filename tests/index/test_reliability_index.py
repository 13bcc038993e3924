"""Reliability: damaged index files, concurrent builders and builds killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.index.store import CURRENT, MANIFEST, build_lock, load

from ..conftest import CORPUS

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "How much did Xinjiang live-streaming sales grow?"
# A builder in its own process, with the instant embedder; "slow-save" and "slow-switch" stretch
# the write and the CURRENT switch so that the test can kill it right in the middle of them.
CHILD = """
import os, sys, time
import numpy as np
from rag.assistant import Assistant
from tests.conftest import FakeEmbedder
corpus, index, stage = sys.argv[1:4]
if stage == "slow-save":
    real_save = np.save
    np.save = lambda *a, **k: (time.sleep(0.4), real_save(*a, **k))[1]
if stage == "slow-switch":
    real_replace = os.replace
    os.replace = lambda *a, **k: (time.sleep(30), real_replace(*a, **k))[1]
print("STARTED", flush=True)
built = Assistant.from_corpus(corpus, index, embedder=FakeEmbedder(), rebuild=stage != "plain")
report = built.build_report
print("REBUILT" if report.rebuilt else "LOADED", report.articles, flush=True)
"""


def child(corpus: Path, index: Path, stage: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(index), stage],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def kill_when(proc: subprocess.Popen[str], ready) -> None:
    """SIGKILL the build child once `ready()` holds; it must still be running by then."""
    try:
        wait_for(lambda: ready() or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def assert_complete(index: Path, articles: int) -> None:
    """The index in use verifies file by file and holds exactly the expected articles."""
    stored = load(index)
    assert stored.manifest["counts"]["articles"] == articles
    assert len(stored.documents["build"]["reports"]) == articles


def generation(index: Path) -> str:
    return (index / CURRENT).read_text().strip()


@pytest.fixture
def built(tmp_path: Path, fake_embedder) -> Path:
    index = tmp_path / "index"
    Assistant.from_corpus(CORPUS, index, embedder=fake_embedder)
    return index


# --- damaged files ------------------------------------------------------------------------------

PARTS = [
    "manifest.json",
    "build.json",
    "vocabulary.json",
    "sentences.npy",
    "passages.npy",
    "sentence_vectors.npy",
    "token_ids.npy",
    "bm25_weights.npy",
    "passages.faiss",
]


@pytest.mark.parametrize("damage", ["truncate", "delete"])
@pytest.mark.parametrize("part", PARTS)
def test_damaged_index_file_is_rebuilt(built: Path, fake_embedder, part: str, damage: str) -> None:
    path = built / generation(built) / part
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.unlink()
    again = Assistant.from_corpus(CORPUS, built, embedder=fake_embedder)
    assert again.build_report.rebuilt
    assert any("56 percent" in e.text for e in again.ask(QUESTION).evidence)
    assert_complete(built, 5)


@pytest.mark.parametrize("pointer", ["", "../..", "gen-missing", "\x00"])
def test_bad_current_pointer_is_rebuilt(built: Path, fake_embedder, pointer: str) -> None:
    (built / CURRENT).write_text(pointer)
    again = Assistant.from_corpus(CORPUS, built, embedder=fake_embedder)
    assert again.build_report.rebuilt and again.build_report.reason == "no index yet"
    assert_complete(built, 5)


def test_manifest_from_another_version_is_rebuilt(built: Path, fake_embedder) -> None:
    path = built / generation(built) / MANIFEST
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "version": "0.0.1", "fingerprint": "old"}))
    again = Assistant.from_corpus(CORPUS, built, embedder=fake_embedder)
    assert again.build_report.reason == "corpus, model or settings changed"
    # Same fingerprint but a newer on-disk format: verification refuses it, then it is rebuilt.
    path = built / generation(built) / MANIFEST
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": 2}))
    again = Assistant.from_corpus(CORPUS, built, embedder=fake_embedder)
    assert again.build_report.rebuilt and "format 2" in again.build_report.reason
    assert_complete(built, 5)


# --- two builders at once -----------------------------------------------------------------------


def test_second_builder_waits_for_the_lock(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with build_lock(index):
        proc = child(CORPUS, index, "plain")
        assert proc.stdout.readline().strip() == "STARTED"
        time.sleep(2.0)  # long enough for a fake-embedder build that did not wait
        assert proc.poll() is None, "built while another process held the lock"
        assert not (index / CURRENT).exists()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.split() == ["REBUILT", "5"]
    assert_complete(index, 5)


def test_two_builders_at_once_build_once(tmp_path: Path) -> None:
    index = tmp_path / "index"
    procs = [child(CORPUS, index, "plain") for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    verdicts = sorted(out.split()[1] for out, _ in results)
    assert verdicts == ["LOADED", "REBUILT"]  # the second found the first one's index and reused it
    assert len(list(index.glob("gen-*"))) == 1 and not list(index.glob(".tmp-*"))
    assert_complete(index, 5)


@pytest.mark.slow
def test_two_rag_index_commands_at_once(tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    cmd = [sys.executable, "-m", "rag.cli", "index", "--corpus", str(CORPUS), "--index", index]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    firsts = sorted(out.splitlines()[0].split(":")[0] for out, _ in outs)
    assert firsts == ["built index", "loaded index"]
    assert_complete(Path(index), 5)


# --- a build killed halfway ---------------------------------------------------------------------


def _tmp_has_files(index: Path) -> bool:
    return any(any(folder.iterdir()) for folder in index.glob(".tmp-*"))


def _two_generations(index: Path) -> bool:
    return len(list(index.glob("gen-*"))) == 2


@pytest.mark.parametrize(
    ("stage", "ready"), [("slow-save", _tmp_has_files), ("slow-switch", _two_generations)]
)
def test_killed_rebuild_leaves_the_old_index_in_use(
    built: Path, fake_embedder, stage: str, ready
) -> None:
    before = generation(built)
    proc = child(CORPUS, built, stage)
    kill_when(proc, lambda: ready(built))
    assert proc.returncode == -signal.SIGKILL
    assert generation(built) == before
    again = Assistant.from_corpus(CORPUS, built, embedder=fake_embedder)  # the lock was freed
    assert not again.build_report.rebuilt
    assert_complete(built, 5)
    assert any("56 percent" in e.text for e in again.ask(QUESTION).evidence)


def test_killed_build_of_a_changed_corpus_is_redone(
    corpus_copy: Path, tmp_path: Path, fake_embedder
) -> None:
    index = tmp_path / "index"
    Assistant.from_corpus(corpus_copy, index, embedder=fake_embedder)
    (corpus_copy / "005_new.txt").write_text("Tibet live-streaming sales grew 31 percent in 2024.")
    proc = child(corpus_copy, index, "slow-save")
    kill_when(proc, lambda: _tmp_has_files(index))
    assert_complete(index, 5)  # still the old, whole index
    again = Assistant.from_corpus(corpus_copy, index, embedder=fake_embedder)
    assert again.build_report.rebuilt and again.build_report.articles == 6
    assert_complete(index, 6)
    assert not list(index.glob(".tmp-*"))  # the killed build's leftovers are cleaned up
    assert len(list(index.glob("gen-*"))) == 1
    top = again.ask("How much did Tibet live-streaming sales grow?").evidence[0]
    assert top.doc_id == "005_new"
