"""A real Ray cluster of two nodes on this machine: build, serve, and lose replicas and a node."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray", reason="the cluster extra is not installed: pip install -e '.[cluster]'")

import ray  # noqa: E402
from ray import serve  # noqa: E402

from rag.assistant import Assistant  # noqa: E402
from rag.bench.cluster import sample_questions  # noqa: E402
from rag.cluster.build import build_on_cluster, connect  # noqa: E402
from rag.cluster.local import local_cluster  # noqa: E402
from rag.cluster.serve import APP, ClusterAssistant, deploy  # noqa: E402
from rag.eval.data import read_gold, read_squad, squad_cache_dir, write_squad_corpus  # noqa: E402
from rag.index.shards import ShardedIndex  # noqa: E402
from rag.scope import Scope  # noqa: E402
from tests.conftest import GOLD, ROOT  # noqa: E402
from tests.test_api import call  # noqa: E402
from ui.app import launch  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

DEV = ROOT.parent / "shared" / "data" / "squad2_dev_subset.json"
QUESTIONS = [pair.question for pair in read_gold(GOLD)]


def assert_same_answers(expected: list[dict], got: list[dict]) -> None:
    """Evidence, order, texts and abstentions identical; confidences and scores to 1e-6."""
    assert len(expected) == len(got)
    for one, other in zip(expected, got, strict=True):
        _same(one, other, one["question"])


def _same(one: Any, other: Any, where: str) -> None:
    if isinstance(one, float):
        assert other == pytest.approx(one, abs=1e-6), where
    elif isinstance(one, dict):
        assert one.keys() == other.keys(), where
        for key in one:
            _same(one[key], other[key], f"{where}: {key}")
    elif isinstance(one, list):
        assert len(one) == len(other), where
        for k, (a, b) in enumerate(zip(one, other, strict=True)):
            _same(a, b, f"{where}[{k}]")
    else:
        assert one == other, where


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as running:
        connect(running.address)
        yield running


def _node_ids() -> set[str]:
    return {node["NodeID"] for node in ray.nodes() if node["Alive"]}


def test_cli_builds_on_both_nodes_and_serve_answers_as_one_machine(
    cluster, assistant, tmp_path: Path
) -> None:
    # `rag index --cluster` in its own process, joining the running cluster as a user would.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", "--cluster", cluster.address,
         "--shards", "2", "--index", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"cluster index of 2 shards in {tmp_path / 'cluster'}" in done.stdout
    assert "embedded on 2 node(s)" in done.stdout
    for node in _node_ids():
        assert node in done.stdout  # every node of the cluster embedded some of it
    front = deploy(tmp_path / "cluster")
    try:
        remote = ClusterAssistant(front)
        assert [a.doc_id for a in remote.articles] == [a.doc_id for a in assistant.articles]
        # The figures table is not served by a cluster yet, and says so (the UI shows it).
        with pytest.raises(ValueError, match="does not serve the figures table"):
            remote.figures(measure="growth")
        expected = [answer.to_dict() for answer in assistant.ask_many(QUESTIONS)]
        assert_same_answers(expected, [remote.ask(q).to_dict() for q in QUESTIONS])
        assert_same_answers(expected, [a.to_dict() for a in remote.ask_many(QUESTIONS)])
        with pytest.raises(ValueError, match="question is empty"):
            remote.ask("   ")
        # A filter reaches every shard replica, and an unknown article is refused as on one.
        scope = Scope(articles=("001_3888668b42d211bb",), since="2024")
        scoped = remote.ask(QUESTIONS[0], scope=scope).to_dict()
        assert_same_answers([assistant.ask(QUESTIONS[0], scope=scope).to_dict()], [scoped])
        assert {e["doc_id"] for e in scoped["evidence"]} == {"001_3888668b42d211bb"}
        with pytest.raises(ValueError, match="no indexed article has the id 'nope'"):
            remote.ask(QUESTIONS[0], scope=Scope(articles=("nope",)))
        # The web server `rag serve --cluster` runs: its JSON API answers through the front.
        server, url = launch(remote, port=0, block=False, quiet=True)
        try:
            status, data = call(url, "api/ask", {"question": QUESTIONS[0]})
            assert status == 200
            assert_same_answers([expected[0]], [data])
            status, data = call(url, "api/ask", {"question": ""})
            assert status == 400 and "question is empty" in data["message"]
            assert call(url, "api/health")[1]["articles"] == 5
        finally:
            server.close()
    finally:
        serve.delete(APP)


def test_squad_dev_questions_answer_as_one_machine(cluster, embedder, tmp_path: Path) -> None:
    if not DEV.is_file():
        pytest.skip(f"{DEV} not present")
    squad = read_squad(DEV)
    cache = squad_cache_dir(DEV)
    corpus = write_squad_corpus(squad, cache / "corpus")
    one = Assistant.from_corpus(corpus, cache / "index", embedder=embedder)
    # 200 questions spread over every article, answerable and not.
    questions = sample_questions(squad, 200)
    assert len(questions) == 200
    report, nodes = build_on_cluster(cluster.address, corpus, tmp_path, 2)
    assert report.articles == len(squad.articles) and nodes == _node_ids()
    index = ShardedIndex.load(tmp_path)
    assert [e.articles for e in index.entries] != [len(squad.articles), 0]
    front = deploy(tmp_path)
    try:
        remote = ClusterAssistant(front)
        expected = [answer.to_dict() for answer in one.ask_many(questions)]
        got = [answer.to_dict() for answer in remote.ask_many(questions)]
        assert_same_answers(expected, got)
        assert any(answer["abstained"] for answer in got)
        assert not all(answer["abstained"] for answer in got)
    finally:
        serve.delete(APP)
