"""`rag index` and `rag ask` as a user runs them, in a real subprocess and in-process."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag import cli

from .conftest import CORPUS, XINJIANG


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )


def test_a_first_question_on_a_new_folder_says_the_index_is_being_built(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("Guangzhou's online sales rose 14 percent in Q3.")
    index = tmp_path / "index"
    first = run("ask", "How much did sales rise?", "--corpus", str(tmp_path / "corpus"),
                "--index", str(index))  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert f"building it in {index}" in first.stderr and "Embedding sentences" in first.stderr
    again = run("ask", "How much did sales rise?", "--corpus", str(tmp_path / "corpus"),
                "--index", str(index))  # fmt: skip
    assert "building" not in again.stderr and "14 percent" in again.stdout


def test_help_does_not_import_torch() -> None:
    code = "import sys, rag.cli; rag.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_index_reports_cleaning_then_ask_prints_citations(tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    built = run("index", "--corpus", str(CORPUS), "--index", index, "--verbose")
    assert built.returncode == 0, built.stderr
    assert "built index: 5 articles" in built.stdout
    assert "removed navigation: TIANSHANNET" in built.stdout
    assert "removed repeated paragraph" in built.stdout
    assert "skipped gold_qa.jsonl" in built.stdout
    assert built.stdout.endswith(f"index in {index}\n")  # where it went, said last
    for stage in ("passages", "sentences"):  # each bar with its total
        assert re.search(rf"Embedding {stage}: 100%.*\| (\d+)/\1 ", built.stderr), built.stderr
    again = run("index", "--corpus", str(CORPUS), "--index", index)
    assert "loaded index" in again.stdout and "fingerprint matches" in again.stdout
    # Not every cleaning line again: how many, and how to list them.
    assert "removed navigation" not in again.stdout
    assert re.search(r"\d+ lines removed in cleaning: `rag index --verbose`", again.stdout)
    assert "skipped gold_qa.jsonl" in again.stdout  # a file it could not read is always said

    asked = run(
        "ask",
        "How much did Xinjiang live-streaming sales grow?",
        "--corpus",
        str(CORPUS),
        "--index",
        index,
    )
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("Answer: 56 percent\n")  # the short answer comes first
    first = asked.stdout.split("[2]")[0]
    assert "56 percent" in first
    assert "Online retail sales in Xinjiang maintains double-digit growth in H1" in first
    assert "2024-07-19" in first

    as_json = run(
        "ask",
        "How much did Xinjiang live-streaming sales grow?",
        "--json",
        "--top-k",
        "2",
        "--mode",
        "bm25",
        "--corpus",
        str(CORPUS),
        "--index",
        index,
    )
    data = json.loads(as_json.stdout)
    assert data["evidence"][0]["doc_id"] == XINJIANG and len(data["evidence"]) <= 2
    assert data["mode"] == "bm25"
    # BM25 alone: the reader rates the sessions' 67 percent 0.001 above the sales' 56 percent
    # (hybrid puts the sales first, above); both come back, each with its own short answer.
    texts = [e["text"] for e in data["evidence"]]
    assert any("56 percent surge in online retail sales" in t for t in texts)
    assert data["short_answer"] == data["evidence"][0]["short_answer"]
    assert data["short_answer"]["text"] in texts[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "question is empty"),
        (["ask", "x" * 5000], "limit is 2,000"),
        (["index", "--corpus", "/no/such/folder"], "/no/such/folder"),
        (["train", "--reader", "--span"], "not both"),
        (["train", "--span"], "--span needs --train-file"),
        (["train"], "--span to train the span model"),
        (["index", "--cluster", "127.0.0.1:1"], "no Ray cluster answers at '127.0.0.1:1'"),
        (["serve", "--cluster", "nonsense"], "'nonsense' is not a Ray address"),
        (["index", "--cluster", "auto", "--shards", "0"], "shards must be a positive"),
        (["serve", "--cluster", "auto", "--replicas", "0"], "replicas must be a positive"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(capsys, args: list[str], message: str) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_mode_is_rejected_by_argparse(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["ask", "What?", "--mode", "sparse"])
    assert exit_info.value.code == 2
    assert "hybrid" in capsys.readouterr().err


def test_chat_and_follow_up_merge_a_short_question_with_the_previous_one(
    assistant, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(cli, "_assistant", lambda args, **kwargs: assistant)
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    typed = "How much did Xinjiang live-streaming sales grow?\nwhat about Yichang?\n\n"
    monkeypatch.setattr(sys, "stdin", Terminal(typed))
    assert cli.main(["chat"]) == 0
    out = capsys.readouterr().out
    assert out.count("question> ") == 3  # at a terminal, a prompt before each line read
    assert "56 percent" in out
    assert "Answered as: How much did Yichang live-streaming sales grow?" in out
    assert (
        cli.main(
            [
                "ask",
                "what about Yichang?",
                "--follow-up",
                "How much did Xinjiang live-streaming sales grow?",
            ]
        )
        == 0
    )
    assert "Answered as: How much did Yichang live-streaming sales grow?" in capsys.readouterr().out
