"""Tests never read a user's articles in corpus/ nor write the working tree's index/."""

from __future__ import annotations

import json

from rag import cli

from .conftest import CORPUS, ROOT, bundled_copy


def test_the_copy_holds_the_bundled_articles_only(tmp_path) -> None:
    source = tmp_path / "corpus"
    bundled_copy(ROOT / "corpus", source)
    (source / "uploads").mkdir()
    (source / "uploads" / "mine.md").write_text("# Mine\n\nA user's own article.")
    (source / "dropped-in.txt").write_text("An article a user copied in by hand.")
    copied = bundled_copy(source, tmp_path / "copy")
    names = sorted(p.name for p in copied.iterdir())
    assert "uploads" not in names and "dropped-in.txt" not in names
    assert len([n for n in names if n.endswith(".txt")]) == 5
    assert {"metadata.jsonl", "gold_qa.jsonl"} <= set(names)


def test_the_session_corpus_is_a_copy_outside_the_working_tree() -> None:
    assert ROOT not in CORPUS.parents
    assert len(list(CORPUS.glob("*.txt"))) == 5


def test_the_cli_defaults_leave_the_working_tree_alone(capsys) -> None:
    index = ROOT / "index"
    before = sorted(p.name for p in index.iterdir()) if index.is_dir() else None
    assert cli.main(["ask", "How much did Xinjiang live-streaming sales grow?", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {e["doc_id"] for e in answer["evidence"]} <= {p.stem for p in CORPUS.glob("*.txt")}
    after = sorted(p.name for p in index.iterdir()) if index.is_dir() else None
    assert after == before
