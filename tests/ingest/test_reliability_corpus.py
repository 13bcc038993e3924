"""Reliability: one corpus folder holding every kind of broken file, plus reading-outside checks."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from rag import assistant as assistant_module
from rag import cli
from rag.assistant import Assistant
from rag.ingest.corpus import load_corpus

from ..conftest import CORPUS, XINJIANG

ROOT = Path(__file__).resolve().parents[2]
REAL_IDS = {p.stem for p in CORPUS.glob("*.txt")}
CHINESE = "新疆今年上半年网络零售额增长百分之十五。直播电商带动农产品销售。"
LATIN1 = "Café owners in Zürich said crème brûlée sales rose 7 percent in May."
# Each fault file and the words its report must contain (file, then line for JSONL).
FAULTS = {
    "empty.txt": "empty",
    "blank.md": "empty",
    "binary.txt": "binary",
    "junk.txt": "not text",
    "loop_a.txt": "looping symlink",
    "loop_b.txt": "looping symlink",
    "pipe.txt": "not a regular file",
    "x_copy_of_xinjiang.txt": f"same text as '{XINJIANG}'",
    "records.jsonl:2": "not valid JSON",
    "records.jsonl:3": '"text"',
    "passwd.txt": "links outside",
}


def _faulty_corpus(root: Path) -> set[str]:
    """Add every fault to a copy of the real corpus; return the doc_ids that must be indexed."""
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text(" \n\t\n")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    # No NUL, not UTF-8, not GB18030, and mostly control bytes even as Latin-1.
    (root / "junk.txt").write_bytes(b"\xff\xfe\xfd" + bytes(range(1, 9)) * 200)
    (root / "chinese_gb18030.txt").write_bytes(CHINESE.encode("gb18030"))
    (root / "latin1.txt").write_bytes(LATIN1.encode("latin-1"))
    shutil.copy(root / f"{XINJIANG}.txt", root / "x_copy_of_xinjiang.txt")
    (root / "records.jsonl").write_text(
        json.dumps({"id": "rec1", "title": "Port news", "text": "Cargo at Lianyungang rose."})
        + '\n{"id": "rec2", "text": \n'  # cut off mid-record
        + json.dumps({"id": "rec3"})
        + "\n"
        + json.dumps({"id": "rec4", "text": "Rail freight to Europe doubled in March."})
        + "\n"
    )
    os.symlink("loop_b.txt", root / "loop_a.txt")
    os.symlink("loop_a.txt", root / "loop_b.txt")
    os.symlink("/etc/passwd", root / "passwd.txt")
    os.mkfifo(root / "pipe.txt")  # reading it would block forever: it must be skipped, not read
    os.symlink("..", root / "up")  # a directory loop: must not be followed
    return REAL_IDS | {"chinese_gb18030", "latin1", "rec1", "rec4"}


def _problem_lines(problems) -> list[str]:
    return [str(p) for p in problems]


def test_every_fault_is_reported_and_no_good_article_is_dropped(
    corpus_copy: Path, tmp_path: Path, fake_embedder
) -> None:
    expected = _faulty_corpus(corpus_copy)
    built = Assistant.from_corpus(corpus_copy, tmp_path / "index", embedder=fake_embedder)
    assert {a.doc_id for a in built.articles} == expected
    problems = _problem_lines(built.build_report.problems)
    for where, reason in FAULTS.items():
        assert any(p.startswith(where + ":") and reason in p for p in problems), (where, problems)
    by_id = {a.doc_id: a for a in built.articles}
    assert by_id["chinese_gb18030"].text == CHINESE
    assert by_id["latin1"].text == LATIN1
    lines = built.build_report.lines()
    assert "  chinese_gb18030.txt: not UTF-8, decoded as gb18030" in lines
    assert "  latin1.txt: not UTF-8, decoded as cp1252" in lines
    assert not any("root:" in a.text for a in built.articles)  # nothing from /etc/passwd
    # The good articles are still found through the index.
    answer = built.ask("How much did Xinjiang live-streaming sales grow?")
    assert any("56 percent" in e.text for e in answer.evidence)
    again = Assistant.from_corpus(corpus_copy, tmp_path / "index", embedder=fake_embedder)
    assert not again.build_report.rebuilt  # a corpus with faults still reloads, not rebuilds
    assert _problem_lines(again.build_report.problems) == problems


def test_rag_index_prints_each_fault_by_file_and_line(
    corpus_copy: Path, tmp_path: Path, fake_embedder, monkeypatch, capsys
) -> None:
    _faulty_corpus(corpus_copy)
    # The CLI's own path, with the instant embedder in place of the 10-second model load.
    monkeypatch.setattr(assistant_module, "Embedder", lambda *args, **kwargs: fake_embedder)
    code = cli.main(["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "i")])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"built index: 9 articles", out)
    for where, reason in FAULTS.items():
        assert re.search(rf"skipped {re.escape(where)}: .*{re.escape(reason)}", out), where
    assert "latin1.txt: not UTF-8, decoded as cp1252" in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads chmod 000 files")
def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Sales grew 10 percent in May.")
    locked = tmp_path / "locked.txt"
    locked.write_text("Secret sales figures.")
    locked.chmod(0)
    try:
        corpus = load_corpus(tmp_path)
    finally:
        locked.chmod(0o644)
    assert [a.doc_id for a in corpus.articles] == ["good"]
    assert any(str(p).startswith("locked.txt: cannot be read") for p in corpus.problems)


@pytest.mark.slow
def test_fifty_megabyte_article_is_indexed(tmp_path: Path, fake_embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{XINJIANG}.txt", corpus)
    # Distinct paragraphs, so that the repeated-paragraph cleaner does not shrink it away.
    paragraph = "Freight volume at inland port {n} grew {p} percent year on year in 2024. "
    with open(corpus / "huge.txt", "w") as handle:
        size, n = 0, 0
        while size < 50 * 1024 * 1024:
            line = (paragraph.format(n=n, p=n % 97) * 4) + "\n\n"
            handle.write(line)
            size += len(line)
            n += 1
    built = Assistant.from_corpus(corpus, None, embedder=fake_embedder, mode="bm25")
    assert {a.doc_id for a in built.articles} == {XINJIANG, "huge"}
    answer = built.ask("How much did Xinjiang live-streaming sales grow?", mode="bm25")
    assert any("56 percent" in e.text for e in answer.evidence)


# --- reading only under the corpus directory ----------------------------------------------------


def test_symlinks_and_jsonl_records_cannot_pull_in_outside_files(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOPSECRET payroll figures grew 99 percent.")
    (outside / "meta.jsonl").write_text(json.dumps({"doc_id": "good", "title": "TOPSECRET"}))
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "good.txt").write_text("Sales grew 10 percent in May.")
    os.symlink(outside / "secret.txt", corpus / "secret.txt")
    os.symlink(outside, corpus / "linked_dir")  # a directory link is never followed
    os.symlink("../../outside/secret.txt", corpus / "sub" / "relative.md")
    os.symlink(outside / "meta.jsonl", corpus / "metadata.jsonl")
    records = [
        {"id": "r1", "text": "/etc/passwd"},
        {"id": "r2", "text": "file:///etc/passwd", "path": "/etc/passwd", "source": "/etc/passwd"},
        {"id": "r3", "text": "See attachment.", "url": "file:///etc/shadow", "include": "../x"},
    ]
    (corpus / "records.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    loaded = load_corpus(corpus)
    texts = " ".join(a.text + a.title + a.source for a in loaded.articles)
    assert "TOPSECRET" not in texts and "root:" not in texts
    assert {a.doc_id for a in loaded.articles} == {"good", "r1", "r2", "r3"}
    # A record's fields are data: its text is the string itself, never a file it names.
    assert {a.doc_id: a.text for a in loaded.articles}["r1"] == "/etc/passwd"
    assert all(a.source.startswith(("good.txt", "records.jsonl:")) for a in loaded.articles)
    problems = _problem_lines(loaded.problems)
    for name in ("secret.txt", "sub/relative.md", "metadata.jsonl"):
        assert any(p.startswith(f"{name}: links outside") for p in problems), (name, problems)
    assert set(loaded.files) == {"good.txt", "records.jsonl"}


_FORBIDDEN = {
    "pickle": re.compile(r"\b(?:c?pickle|dill|joblib|marshal|shelve)\b"),
    "eval/exec": re.compile(r"(?<![\w.])(?:eval|exec)\s*\("),
    "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
    "trust_remote_code=True": re.compile(r"trust_remote_code\s*=\s*True"),
    "yaml.load": re.compile(r"yaml\.(?:unsafe_)?load\s*\("),
}


def test_nothing_loaded_from_disk_can_run_code() -> None:
    sources = sorted([*(ROOT / "rag").rglob("*.py"), *(ROOT / "ui").rglob("*.py")])
    assert len(sources) > 10
    hits = []
    for path in sources:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            hits += [
                f"{path.name}:{number}: {name}"
                for name, rx in _FORBIDDEN.items()
                if rx.search(code)
            ]
            # torch.load unpickles unless told weights_only=True.
            if re.search(r"torch\.load\s*\(", code) and "weights_only=True" not in code:
                hits.append(f"{path.name}:{number}: torch.load without weights_only=True")
    assert hits == []
    # The index reader refuses pickled arrays outright.
    store = (ROOT / "rag" / "index" / "store.py").read_text()
    assert store.count("allow_pickle=False") == 2
