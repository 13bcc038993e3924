"""Reliability: `Assistant.ask` from several threads at once gives the single-threaded answers."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from .conftest import CORPUS

THREADS = 8
# Short and long, answerable and not: different token counts go through the shared tokenizer.
QUESTIONS = [
    json.loads(line)["question"]
    for line in (CORPUS / "gold_qa.jsonl").read_text().splitlines()[::10]
]


def test_concurrent_asks_match_single_threaded(assistant) -> None:
    expected = [assistant.ask(question).to_dict() for question in QUESTIONS]
    start = threading.Barrier(THREADS)  # all threads ask at the same moment, not one by one

    def worker(offset: int) -> list[tuple[int, dict]]:
        start.wait()
        order = [(offset + i) % len(QUESTIONS) for i in range(len(QUESTIONS))]
        return [(i, assistant.ask(QUESTIONS[i]).to_dict()) for i in order]

    with ThreadPoolExecutor(THREADS) as pool:
        results = [row for rows in pool.map(worker, range(THREADS)) for row in rows]
    assert len(results) == THREADS * len(QUESTIONS)
    for i, answer in results:
        assert answer == expected[i], QUESTIONS[i]
