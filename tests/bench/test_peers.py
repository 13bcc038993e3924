"""`rag bench --peers` on a tiny corpus, where the `peers` extra (Haystack, txtai) is installed."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from rag.bench.peers import SYSTEMS, run_peers
from tests.conftest import CORPUS, XINJIANG

pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("haystack", "txtai")),
    reason="the peers extra is not installed (pip install rag-news[peers])",
)


def test_each_peer_answers_the_same_questions_in_a_fresh_process(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{XINJIANG}.txt", corpus)
    gold = tmp_path / "gold.jsonl"
    rows = [json.loads(line) for line in (CORPUS / "gold_qa.jsonl").read_text().splitlines()]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows if r.get("doc_id") == XINJIANG))
    done = run_peers(corpus, gold, rounds=1, questions=4, log=lambda line: None)
    assert set(done["rows"]) == set(SYSTEMS) and not done["missing"]
    for system, row in done["rows"].items():
        assert row["questions"] == 4, system
        assert 0 < row["p50_ms"] <= row["p95_ms"] and row["cold_s"] > 0 and row["peak_rss_mb"] > 0
        assert 0.0 <= row["accuracy"] <= 1.0
    assert done["rows"]["rag-news"]["accuracy"] >= 0.75  # it reads; the four are in its article
    assert done["table"].count("\n") == 4 and "| txtai |" in done["table"]
