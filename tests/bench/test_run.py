"""`rag bench` at tiny sizes: the shape of bench.json and the table, never the timings."""

from __future__ import annotations

import argparse
import json

import pytest

from rag.bench.measure import DATA
from rag.bench.run import run
from rag.cli import build_parser, parse_sizes
from tests.conftest import CORPUS, FIXTURES

# The bench builds its sized corpora from the SQuAD files in ../shared/data (or RAG_BENCH_DATA).
needs_data = pytest.mark.skipif(
    not (DATA / "squad2_dev_subset.json").is_file(),
    reason=f"SQuAD files not found in {DATA}; set RAG_BENCH_DATA",
)


@pytest.fixture(scope="module")
def result(fake_embedder, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    run(
        sizes=[300, 700],
        assistant_sizes=[300],
        questions=6,
        cold_runs=0,
        corpus=CORPUS,
        embedder=fake_embedder,
        approximate_from=700,
        load_clients=2,
        load_questions=10,  # the figures mix of the bundled corpus has 10 requests
        squad=FIXTURES / "squad_v2.json",
        out=out,
        log=lambda line: None,
    )
    return json.loads(out.read_text())


@needs_data
def test_bench_json_has_every_section(result: dict) -> None:
    assert {
        "machine",
        "targets",
        "settings",
        "warm_ask",
        "warm_ask_trees",
        "batch",
        "build",
        "cold_start",
        "build_torch",
        "sizes",
        "served",
        "notes",
        "table",
    } <= set(result)
    assert result["cold_start"] == {"skipped": True}
    warm = result["warm_ask"]
    assert warm["questions"] == 6
    assert {"p50_ms", "p95_ms"} == set(warm["ask"]) == set(warm["floor"]) == set(warm["ask_torch"])
    assert warm["ask_p50_over_torch"] > 0
    assert isinstance(warm["target_met"], bool)
    assert warm["target"] == 3.0 and warm["target_p95"] == 5.0 and warm["ask_p95_over_floor"] > 0
    trees = result["warm_ask_trees"]
    assert trees["target"] == 4.0 and trees["ask"]["p50_ms"] > 0
    assert result["batch"]["questions_per_s"] > 0
    build = result["build"]
    assert build["passages"] > 0 and build["texts_encoded"] > build["passages"]
    assert build["peak_rss_mb"] > 0 and isinstance(build["target_met"], bool)


@needs_data
def test_size_rows_say_what_they_measure(result: dict) -> None:
    rows = result["sizes"]
    assert [row["passages"] for row in rows] == [300, 700]
    for row in rows:
        assert row["real_passages"] + row["generated_passages"] == row["passages"]
        for part in ("sparse", "dense", "fusion", "retrieval", "embed_plus_retrieval"):
            assert set(row[part]) == {"p50_ms", "p95_ms"}
        assert row["dense_kind"] == "flat"
        assert "rank_bm25" in row
    ivf = rows[1]["ivf"]
    assert 0.0 <= ivf["recall_at_10"] <= 1.0 and ivf["nprobe"] >= 1 and ivf["cells"] >= 1
    assert set(ivf["flat"]) == {"p50_ms", "p95_ms"}
    assert "ivf" not in rows[0]
    assert any("generated" in note for note in result["notes"])
    assert any("synthetic" in note for note in result["notes"])


@needs_data
def test_table_has_a_row_per_measurement(result: dict) -> None:
    table = result["table"].splitlines()
    assert table[0].startswith("| measurement |")
    assert any(line.startswith("| warm ask p50") for line in table)
    assert any(line.startswith("| 700: IVF") for line in table)
    assert sum(line.startswith("| 300:") for line in table) == 3
    assert sum(" passages: " in line for line in table) == 3  # the whole assistant at 300


@needs_data
def test_whole_assistant_at_size_with_the_real_model(result: dict) -> None:
    (row,) = result["assistant_sizes"]
    build, serve = row["build"], row["serve"]
    assert row["corpus"]["real_articles"] >= 1 and build["passages"] >= 300
    assert build["dense_kind"] == "flat" and build["peak_rss_mb"] >= build["model_rss_mb"] > 0
    assert serve["questions"] == 6 and set(serve["ask"]) == {"p50_ms", "p95_ms"}
    added = serve["add_article"]
    # The added news article is embedded by the real model; nothing else is.
    assert 0 < added["encoded"] < 60 and added["reused"] >= build["passages"]
    assert "peak_rss_mb" in row and "memory_target_met" not in row


@needs_data
def test_served_rows_come_from_a_real_server_process(result: dict) -> None:
    served = result["served"]
    assert served["peak_rss_mb"] > 0 and isinstance(served["rss_target_met"], bool)
    for api, kinds in (("json", {"ok", "empty", "malformed", "oversized"}),
                       ("gradio", {"ok", "empty", "huge"})):
        load = served[api]
        assert load["requests"] == 2 * 10 and load["still_up"] is True and load["failures"] == 0
        assert set(load["latency"]) == kinds
    table = result["table"].splitlines()
    assert any(line.startswith("| `rag serve` peak RSS") for line in table)
    assert any(line.startswith("| JSON API, 2 clients x 10 requests") for line in table)
    assert any(line.startswith("| gradio /ask, 2 clients x 10 requests") for line in table)
    assert any(note.startswith("served:") for note in result["notes"])


@needs_data
def test_figures_rows_time_the_table_built_and_served(result: dict) -> None:
    bundled, squad = result["figures"]
    assert (bundled["corpus"], squad["corpus"]) == ("bundled corpus", "squad_v2.json")
    for row in (bundled, squad):
        build, load = row["build"], row["served"]
        # A build from scratch annotates every article, inside the time the whole build took.
        assert build["figures"] > 0 and build["annotated"] == build["articles"] > 0
        assert 0 <= build["table_s"] <= build["build_s"] and 0 <= build["share"] <= 1
        # Every response held as many figures as the same index gives in the bench process.
        assert load["requests"] == 2 * 10 and load["failures"] == 0 and load["still_up"] is True
        assert load["first_request_ms"] > 0 and load["latency"]["all"]["p95_ms"] > 0
        assert isinstance(build["target_met"], bool) and isinstance(load["target_met"], bool)
    # Each filter, and several at once, on the bundled corpus, which has figures of each.
    assert set(bundled["served"]["latency"]) == {
        "all", "table", "measure", "about", "place", "period", "combined"
    }
    table = result["table"].splitlines()
    assert sum(line.startswith("| figures table, ") for line in table) == 2
    assert any(
        line.startswith("| GET /api/figures, bundled corpus, 2 clients x 10 requests")
        for line in table
    )
    assert any(note.startswith("figures:") for note in result["notes"])


def test_sizes_flag() -> None:
    assert parse_sizes("10k,100k,1M") == [10_000, 100_000, 1_000_000]
    assert parse_sizes("500") == [500]
    with pytest.raises(argparse.ArgumentTypeError, match="10k,100k"):
        parse_sizes("lots")
    args = build_parser().parse_args(["bench", "--sizes", "1k", "--cold-runs", "0"])
    assert args.sizes == [1_000] and args.cold_runs == 0 and args.command == "bench"
    assert args.load_clients == 16
    assert build_parser().parse_args(["bench", "--load-clients", "0"]).load_clients == 0
    assert build_parser().parse_args(["bench", "--squad", "dev.json"]).squad == "dev.json"
