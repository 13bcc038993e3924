"""Shards in this process: the same answers as one index, atomic builds, refused damage."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.errors import IndexCorruptError, SettingsError
from rag.eval.data import read_gold
from rag.index.shards import ShardedIndex, build_shards, merge, partition
from rag.index.sparse import SparseIndex, Statistics
from rag.index.store import current_generation
from rag.ingest.tokens import TokenTable
from rag.settings import Mode, Settings
from rag.types import Article
from tests.conftest import CORPUS, GOLD, ROOT

QUESTIONS = [pair.question for pair in read_gold(GOLD)]
NEW_ARTICLE = (
    "Guangzhou's cross-border e-commerce exports rose 31 percent in the first half of 2024, "
    "the city's commerce bureau said. Online exporters shipped furniture and clothing to "
    "buyers in Europe and the Middle East."
)


def sharded(folder: Path, embedder) -> Assistant:
    return Assistant.over(ShardedIndex.load(folder), embedder, Settings())


def _statistics(rows: list[list[str]]) -> Statistics:
    table = TokenTable.build(rows)
    return SparseIndex.statistics(table.words, table.ids, [(table.offsets[:-1], table.lengths())])


def test_shards_scored_with_the_combined_statistics_score_as_the_whole_corpus() -> None:
    docs = [["a", "b"], ["b", "c", "c"], [], ["a"], ["d", "a"]]
    combined = Statistics.combine([_statistics(docs[:2]), _statistics(docs[2:])])
    assert combined.digest() == _statistics(docs).digest()
    whole = SparseIndex(docs)
    for lo, hi in ((0, 2), (2, 5)):
        table = TokenTable.build(docs[lo:hi])
        shard = SparseIndex.of_segments(
            table.words, table.ids, [(table.offsets[:-1], table.lengths())], statistics=combined
        )
        for query in (["a", "d"], ["c", "b", "b"]):
            np.testing.assert_array_equal(
                shard.score_tokens(query), whole.score_tokens(query)[lo:hi]
            )


def test_merged_rankings_break_ties_by_id_as_one_index_does() -> None:
    first = (np.array([4, 1]), np.array([0.9, 0.5], dtype=np.float32))
    second = (np.array([7, 3]), np.array([0.9, 0.7], dtype=np.float32))
    ids, scores = merge([second, first], limit=3)
    assert ids.tolist() == [4, 7, 3] and scores.tolist() == pytest.approx([0.9, 0.9, 0.7])


def _articles(*sizes: int) -> list[Article]:
    return [Article(doc_id=f"d{i}", text="x" * size) for i, size in enumerate(sizes)]


def test_partition_balances_text_and_keeps_articles_where_they_were() -> None:
    articles = _articles(2047, 1665, 4557, 4326, 4265)
    assert partition(articles, 2, {}) == [(0, 3), (3, 5)]
    assert partition(articles, 5, {}) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    # A new article (d5, after d1) joins d1's shard; no other article moves.
    grown = [*articles[:2], Article(doc_id="d5", text="y"), *articles[2:]]
    before = {"d0": 0, "d1": 0, "d2": 0, "d3": 1, "d4": 1}
    assert partition(grown, 2, before) == [(0, 4), (4, 6)]
    with pytest.raises(SettingsError, match="3 shards need at least 3 articles"):
        partition(articles[:2], 3, {})


@pytest.fixture(scope="module")
def built(embedder, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cluster")
    report = build_shards(CORPUS, folder, 2, embedder, Settings())
    assert report.rebuilt and report.articles == 5
    return folder


@pytest.mark.parametrize("shards", [2, 3])
def test_sharded_index_answers_exactly_as_one_index(assistant, embedder, tmp_path, shards) -> None:
    build_shards(CORPUS, tmp_path, shards, embedder, Settings())
    index = ShardedIndex.load(tmp_path)
    assert len(index.shards) == shards and index.articles[0].doc_id == assistant.articles[0].doc_id
    many = sharded(tmp_path, embedder)
    for question in QUESTIONS[:8]:
        one = assistant.candidate_sets([question], Mode.HYBRID)[0]
        other = many.candidate_sets([question], Mode.HYBRID)[0]
        assert one.candidates == other.candidates
        np.testing.assert_array_equal(one.matrix, other.matrix)
    expected = [answer.to_dict() for answer in assistant.ask_many(QUESTIONS)]
    assert [answer.to_dict() for answer in many.ask_many(QUESTIONS)] == expected


def test_unchanged_corpus_is_reloaded_and_a_new_article_is_the_only_text_embedded(
    embedder, corpus_copy: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cluster"
    build_shards(corpus_copy, folder, 2, embedder, Settings())
    again = build_shards(corpus_copy, folder, 2, embedder, Settings())
    assert not again.rebuilt and again.reason == "fingerprint matches"
    (corpus_copy / "005_guangzhou.txt").write_text("Guangzhou exports\n\n" + NEW_ARTICLE)
    grown = build_shards(corpus_copy, folder, 2, embedder, Settings())
    # Its sentences and its passage: nothing of the five old articles.
    new_texts = grown.sentences - again.sentences + grown.passages - again.passages
    assert grown.rebuilt and grown.articles == 6 and grown.encoded == new_texts == 4
    answer = sharded(folder, embedder).ask("How much did Guangzhou's cross-border exports rise?")
    assert answer.evidence and "31 percent" in answer.evidence[0].text
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("gen-")) == [
        current_generation(folder)
    ]
    for shard in folder.glob("shard-*"):  # only the generations the manifest names are left
        assert len([p for p in shard.iterdir() if p.name.startswith("gen-")]) == 1


def test_a_failed_build_leaves_the_previous_cluster_index_in_use(
    embedder, corpus_copy: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cluster"
    build_shards(corpus_copy, folder, 2, embedder, Settings())
    before = current_generation(folder)
    (corpus_copy / "005_guangzhou.txt").write_text("Guangzhou exports\n\n" + NEW_ARTICLE)

    class FailsOnSecondShard:
        identity, dimension, calls = embedder.identity, embedder.dimension, 0

        def encode(self, texts, *, progress=False):
            self.calls += 1
            if self.calls > 2:  # the first shard's passages and sentences, then a crash
                raise RuntimeError("the node embedding shard 2 died")
            return embedder.encode(texts)

    with pytest.raises(RuntimeError, match="node embedding shard 2 died"):
        build_shards(corpus_copy, folder, 2, FailsOnSecondShard(), Settings(), rebuild=True)
    assert current_generation(folder) == before
    index = ShardedIndex.load(folder)
    assert len(index.articles) == 5


def test_a_killed_build_leaves_the_previous_cluster_index_in_use(
    embedder, corpus_copy: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cluster"
    build_shards(corpus_copy, folder, 2, embedder, Settings())
    before = current_generation(folder)
    (corpus_copy / "006_copy.txt").write_text(NEW_ARTICLE * 40)
    script = (
        "import sys; from rag.index.embed import Embedder; from rag.settings import Settings; "
        "from rag.index.shards import build_shards; "
        "build_shards(sys.argv[1], sys.argv[2], 2, Embedder(), Settings(), rebuild=True)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(corpus_copy), str(folder)], cwd=ROOT
    )
    try:
        # Killed once it has written a shard generation of its own: mid-build.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if len(list(folder.glob("shard-*/gen-*"))) > 2:
                break
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL, "the build ended before it could be killed"
    assert current_generation(folder) == before
    assert len(ShardedIndex.load(folder).articles) == 5
    # The next build finishes, and clears what the killed one left behind.
    build_shards(corpus_copy, folder, 2, embedder, Settings())
    assert len(ShardedIndex.load(folder).articles) == 6
    assert all(len(list(shard.glob("gen-*"))) == 1 for shard in folder.glob("shard-*"))


def test_a_missing_shard_is_refused_naming_it(built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cluster"
    shutil.copytree(built, folder)
    shutil.rmtree(folder / "shard-001")
    with pytest.raises(IndexCorruptError, match="shard shard-001 .*rag index --cluster"):
        ShardedIndex.load(folder)


def test_a_shard_built_with_other_statistics_is_refused_naming_it(
    built: Path, embedder, corpus_copy: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    (corpus_copy / "005_guangzhou.txt").write_text("Guangzhou exports\n\n" + NEW_ARTICLE)
    build_shards(corpus_copy, other, 2, embedder, Settings())
    folder = tmp_path / "cluster"
    shutil.copytree(built, folder)
    # Shard 0 of another corpus (the same articles, other statistics) put in shard 0's place.
    expected = json.loads(_manifest(folder))["shards"][0]["generation"]
    shutil.rmtree(folder / "shard-000" / expected)
    (source,) = (other / "shard-000").glob("gen-*")
    shutil.copytree(source, folder / "shard-000" / expected)
    with pytest.raises(IndexCorruptError, match="shard shard-000 .*other BM25 statistics"):
        ShardedIndex.load(folder)


def _manifest(folder: Path) -> str:
    return (folder / current_generation(folder) / "manifest.json").read_text()
