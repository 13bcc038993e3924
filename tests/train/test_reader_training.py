"""`rag train --reader` end to end on tiny SQuAD files: lists, training, resume, export, load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.reader import Reader, ReaderInput
from rag.train.pipeline import train_and_export
from rag.train.reader import TrainingSettings, train_reader
from rag.train.reader_data import read_lists

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.slow
def test_train_resume_and_export_a_tiny_reader(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    work, out = tmp_path / "work", tmp_path / "models" / "reader.int8.onnx"
    manifest = train_and_export(
        FIXTURES / "squad_v1.json",
        FIXTURES / "squad_v2.json",
        work,
        articles=2,
        layers=1,
        max_length=48,
        out=out,
        validation=2,
    )
    lists = list(read_lists(work / "lists.jsonl"))
    kinds = {rows[0].kind for rows in lists}
    assert {"answerable", "unanswerable"} <= kinds
    assert all(any(r.label for r in rows) for rows in lists if rows[0].kind == "answerable")
    assert all(not any(r.label for r in rows) for rows in lists if rows[0].kind != "answerable")
    log = (work / "train.log").read_text()
    assert "resuming at step 0" in log and "held-out" in log
    assert (work / "final" / "model.safetensors").is_file()
    # The export is checksummed, carries its blend and loads in ONNX Runtime.
    saved = json.loads(out.with_name("reader.json").read_text())
    assert saved["sha256"] == manifest["sha256"]
    assert {"reader", "trees", "bias"} <= saved["blend"].keys()
    reader = Reader(out)
    logits = reader.logits(
        "When did Watt improve the engine?",
        [ReaderInput("Steam engine", "", "Watt improved it in 1769.", "")],
    )
    assert logits.shape == (1,)
    # A rerun finds the finished model and only exports it again.
    again = train_and_export(None, None, work, out=out, validation=2, export_only=True)
    assert Reader(out).manifest["sha256"] == again["sha256"]
    # Training resumes from its last checkpoint instead of starting over.
    tiny = TrainingSettings(layers=1, max_length=48, validation=2, checkpoint_every=1)
    train_reader(work / "lists.jsonl", tmp_path / "again", tiny)
    train_reader(work / "lists.jsonl", tmp_path / "again", tiny)
    log = (tmp_path / "again" / "train.log").read_text()
    assert "resuming at step 0 of" in log and log.count("resuming at step") == 2
    assert "resuming at step 0 of" not in log.splitlines()[-3]
