"""Reliability: the real web server under 16 concurrent clients, oversized requests mixed in."""

from __future__ import annotations

import pytest

from rag.bench.load import CLIENTS, QUESTIONS_EACH, serve_and_load


@pytest.mark.slow
def test_sixteen_concurrent_clients(assistant) -> None:
    load = serve_and_load(assistant, clients=CLIENTS, questions_each=QUESTIONS_EACH)
    print(
        f"\n{load.requests} requests from {CLIENTS} clients in {load.elapsed_s:.1f}s, "
        f"{len(load.failures)} failed"
    )
    for kind in load.p50_s:
        print(f"  {kind:5s} p50 {load.p50_s[kind]:.2f}s p95 {load.p95_s[kind]:.2f}s")
    assert load.requests == CLIENTS * QUESTIONS_EACH
    assert load.failures == ()
    assert load.still_up
    # A 1 MB question is refused before any work: it waits in the same queue, never longer.
    assert load.p50_s["huge"] <= load.p50_s["ok"] * 1.5 + 0.5


@pytest.mark.slow
def test_sixteen_concurrent_json_clients(assistant) -> None:
    load = serve_and_load(assistant, clients=CLIENTS, questions_each=QUESTIONS_EACH, api="json")
    assert load.requests == CLIENTS * QUESTIONS_EACH
    assert load.failures == ()
    assert load.still_up
