"""Metrics on hand-built cases: normalization, hits, abstention, curves, summaries, calibration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.eval.calibrate import calibrate_threshold, write_threshold
from rag.eval.data import GoldPair
from rag.eval.metrics import (
    METRICS,
    CurvePoint,
    abstention_metrics,
    choose_high,
    choose_threshold,
    contains_answer,
    coverage_curve,
    exact_match,
    first_hit,
    hit_at_k,
    normalize,
    percentile,
    reciprocal_rank,
    result_row,
    span_matches,
    squad_normalize,
    summarize,
    threshold_grid,
    token_f1,
)
from rag.eval.report import format_table, write_outputs
from rag.eval.run import EvalReport
from rag.types import Answer, Evidence, ShortAnswer
from tests.conftest import ROOT

SCORER = ROOT / "rag" / "scorer.json"
SUMMARY_KEYS = [key for key, *_ in METRICS]


def _evidence(text: str, doc_id: str = "d1", score: float = 0.5) -> Evidence:
    # The short answer is the sentence less its first word and its full stop: "56 percent".
    words = text.rstrip(".").split(" ", 1)
    short = None
    if len(words) == 2:
        at = text.index(words[1])
        short = ShortAnswer(words[1], at, at + len(words[1]), 0.5, "reader")
    return Evidence(
        text=text,
        doc_id=doc_id,
        title=doc_id,
        publisher="",
        published="",
        start=0,
        end=len(text),
        score=score,
        short_answer=short,
    )


def _answer(
    texts: list[str],
    *,
    abstained: bool = False,
    confidence: float = 0.5,
    docs: list[str] | None = None,
) -> Answer:
    docs = docs or ["d1"] * len(texts)
    evidence = [_evidence(t, d) for t, d in zip(texts, docs, strict=True)]
    return Answer("q?", " ".join(texts), abstained, confidence, evidence)


# --- normalization and containment ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Rose  12.9%!", "rose 12.9 %"),
        ("rose 12.9 %", "rose 12.9 %"),
        ("Live-streaming SALES, up", "live streaming sales up"),
        ("China’s 1,000 firms.", "china s 1,000 firms"),
        ("In 2024, sales grew.", "in 2024 sales grew"),
        ("$5 million", "$ 5 million"),
        ("ＦＵＬＬ－ｗｉｄｔｈ　１２％", "full width 12 %"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "answers", "found"),
    [
        ("Sales rose 12.9 % in the year.", ["12.9%"], True),  # numbers as written, % apart
        ("Sales rose 12.9% in the year.", ["12.9 %"], True),
        ("It was built by THOMAS NEWCOMEN.", ["Thomas Newcomen"], True),  # case, punctuation
        ("a 56 percent surge", ["56 percent"], True),
        ("a 156 percent surge", ["56 percent"], False),  # whole tokens only
        ("a 56 percent surge", ["56%"], False),  # not converted: compared as written
        ("1,000 shops", ["1000"], False),
        ("Sales grew 15 percent.", ["increase of 15 percent", "15 percent"], True),  # any answer
        ("Sales grew 15 percent.", [], False),
        ("Sales grew 15 percent.", ["!!"], False),  # an answer that normalizes to nothing
    ],
)
def test_contains_answer(text: str, answers: list[str], found: bool) -> None:
    assert contains_answer(text, answers) is found


def test_hits_and_reciprocal_rank() -> None:
    texts = ["Nothing here.", "Sales rose 56 percent.", "Again 56 percent."]
    assert first_hit(texts, ["56 percent"]) == 2
    assert not hit_at_k(texts, ["56 percent"], 1)
    assert hit_at_k(texts, ["56 percent"], 3)
    assert reciprocal_rank(texts, ["56 percent"]) == 0.5


def test_ties_count_the_first_rank() -> None:
    # Two sentences with the answer (and equal scores): the first one listed decides the rank.
    texts = ["It rose 56 percent.", "It rose 56 percent, again."]
    assert first_hit(texts, ["56 percent"]) == 1
    assert reciprocal_rank(texts, ["56 percent"]) == 1.0


def test_empty_evidence() -> None:
    assert first_hit([], ["x"]) is None
    assert not hit_at_k([], ["x"], 3)
    assert reciprocal_rank([], ["x"]) == 0.0


# --- abstention, curve, percentile ---------------------------------------------------------


def test_abstention_metrics_known_values() -> None:
    abstained = [True, True, False, False, True, False]
    answerable = [False, True, False, True, False, True]
    # TP = 2 (0, 4), FP = 1 (1), FN = 1 (2); 3 unanswerable, 3 answerable.
    got = abstention_metrics(abstained, answerable)
    assert got["abstain_precision"] == pytest.approx(2 / 3)
    assert got["abstain_recall"] == pytest.approx(2 / 3)
    assert got["abstain_f1"] == pytest.approx(4 / 6)
    assert got["false_abstention"] == pytest.approx(1 / 3)


def test_abstention_metrics_undefined_cases() -> None:
    never = abstention_metrics([False, False], [False, True])
    assert never["abstain_precision"] is None  # no abstention to be precise about
    assert never["abstain_recall"] == 0.0
    assert never["abstain_f1"] == 0.0
    all_answerable = abstention_metrics([False, True], [True, True])
    assert all_answerable["abstain_recall"] is None
    assert all_answerable["abstain_precision"] == 0.0
    assert all_answerable["false_abstention"] == 0.5
    assert abstention_metrics([], []) == {
        "abstain_precision": None,
        "abstain_recall": None,
        "abstain_f1": None,
        "false_abstention": None,
    }
    with pytest.raises(ValueError, match="same length"):
        abstention_metrics([True], [])


CONF = [0.9, 0.5, 0.5, 0.2]
CORRECT = [True, True, True, False]  # the third is unanswerable: never correct when answered
ANSWERABLE = [True, True, False, True]


def test_coverage_curve_known_values_and_ties() -> None:
    points = {
        p.threshold: p for p in coverage_curve(CONF, CORRECT, ANSWERABLE, [0.0, 0.5, 0.6, 1.0])
    }
    assert points[0.0] == CurvePoint(0.0, 1.0, 0.5, 2 / 3, 0.0, None)
    # Both 0.5 confidences are answered at t = 0.5 (confidence >= t answers).
    assert points[0.5] == CurvePoint(0.5, 0.75, 2 / 3, 2 / 3, 0.0, 0.0)
    assert points[0.6] == CurvePoint(0.6, 0.25, 1.0, 1 / 3, 1.0, 1 / 3)
    assert points[1.0] == CurvePoint(1.0, 0.0, None, 0.0, 1.0, 0.25)
    assert coverage_curve([], [], [], [0.5]) == [CurvePoint(0.5, None, None, None, None)]
    with pytest.raises(ValueError, match="same length"):
        coverage_curve([0.1], [], [], [0.5])


def test_choose_threshold_keeps_right_answers_and_prefers_lowest_on_ties() -> None:
    points = coverage_curve(CONF, CORRECT, ANSWERABLE, [0.2, 0.5, 0.6, 0.9, 1.0])
    # 0.6 would abstain on the unanswerable one but halves the right answers (2/3 -> 1/3),
    # below 90% of the best; 0.2 and 0.5 keep 2/3 and tie on recall: the lower one wins.
    assert choose_threshold(points).threshold == 0.2
    # With the unanswerable question held back at no cost, the higher threshold wins.
    cheap = coverage_curve(
        [0.9, 0.8, 0.3, 0.2],
        [True, True, True, False],
        [True, True, False, True],
        [0.2, 0.3, 0.5, 0.85],
    )
    assert choose_threshold(cheap).threshold == 0.5
    with pytest.raises(ValueError):
        choose_threshold([])


def test_choose_high_is_the_lowest_threshold_whose_answers_are_nine_in_ten_right() -> None:
    points = coverage_curve(
        [0.9, 0.8, 0.3, 0.2],
        [True, True, True, False],
        [True, True, False, True],
        [0.2, 0.3, 0.5, 0.85],
    )
    # Answering from 0.2 is right 2 times in 4, from 0.3 2 in 3, from 0.5 and 0.85 always.
    assert choose_high(points, 0.2).threshold == 0.5
    assert choose_high(points, 0.6).threshold == 0.85  # never below the abstention threshold
    assert choose_high(points[:2], 0.0) is None


def test_threshold_grid_holds_the_thresholds_in_use() -> None:
    grid = threshold_grid(0.355)
    assert grid[0] == 0.0 and grid[-1] == 1.0 and 0.355 in grid and 0.07 in grid
    assert len(grid) == 102
    assert len(threshold_grid(0.355, 0.8123)) == 103 and 0.8123 in threshold_grid(0.8123)


def test_percentile() -> None:
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], 101)


# --- short answers: SQuAD's exact match and F1 -----------------------------------------------


def test_squad_normalization_and_scores() -> None:
    assert squad_normalize("The  JD Group, Inc.") == "jd group inc"
    assert exact_match("the 56 percent", ["56 percent"]) == 1.0
    assert exact_match("56", ["56 percent"]) == 0.0
    assert token_f1("56 percent", ["a 56 percent surge"]) == pytest.approx(0.8)
    assert token_f1("", ["56 percent"]) == 0.0
    assert token_f1("JD", ["Alibaba", "JD Group"]) == pytest.approx(2 / 3)  # the best gold


@pytest.mark.parametrize(
    ("prediction", "answers", "matches"),
    [
        ("15 percent", ["increase of 15 percent"], True),
        ("over 700 brands", ["700 brands"], True),
        ("419", ["419 key trade enterprises"], True),
        ("Jiulongpo", ["Jiulongpo District"], True),
        ("12 percent", ["increase of 15 percent"], False),  # a shared word is not agreement
        ("percent", ["increase of 15 percent"], False),  # the figure is the answer
        ("65", ["65 direct sourcing bases in 19 countries"], False),  # half of it
        ("sales rose in xinjiang by 15 percent in the first half", ["15 percent"], False),
        ("", ["15 percent"], False),
    ],
)
def test_span_matches(prediction: str, answers: list[str], matches: bool) -> None:
    assert span_matches(prediction, answers) is matches


# --- per-question rows and the summary -----------------------------------------------------


def _rows():
    pairs = [
        GoldPair("a", "q1", ("56 percent",), "d1", True),
        GoldPair("b", "q2", ("15 percent",), "d2", True),
        GoldPair("c", "q3", ("July 19",), "d1", True),
        GoldPair("u1", "q4", (), None, False),
        GoldPair("u2", "q5", (), None, False),
    ]
    answers = [
        _answer(["Up 56 percent.", "Other."], confidence=0.9),  # answered, hit@1
        # Abstained but the gold answer is in its second evidence sentence: hit@3, not hit@1.
        _answer(["Other.", "Rose 15 percent."], abstained=True, confidence=0.2, docs=["d1", "d2"]),
        _answer([], abstained=True, confidence=0.0),  # retrieval found nothing
        _answer(["Unrelated."], abstained=True, confidence=0.1),  # correct abstention
        _answer(["Unrelated."], confidence=0.7),  # answered an unanswerable question
    ]
    seconds = [0.010, 0.030, None, 0.020, None]
    return [result_row(p, a, s) for p, a, s in zip(pairs, answers, seconds, strict=True)]


def test_result_row_flags() -> None:
    rows = _rows()
    assert rows[0].hit(1) and rows[0].answered_correct and rows[0].doc_rank == 1
    assert not rows[1].hit(1) and rows[1].hit(3) and rows[1].answer_rank == 2
    assert not rows[1].answered_correct  # abstained, so not answered even though retrieved
    assert rows[1].doc_rank == 2
    assert rows[2].answer_rank is None and rows[2].doc_rank is None
    assert rows[3].answer_rank is None and not rows[3].answered_correct
    row = rows[1].to_dict()
    assert row["hit@1"] is False and row["hit@3"] is True and row["abstained"] is True
    gold = {"answers": ["15 percent"], "doc_id": "d2", "answerable": True, "kind": ""}
    assert row["gold"] == gold
    assert [e["contains_answer"] for e in row["evidence"]] == [False, True]


def test_summarize_known_values() -> None:
    summary = summarize(_rows(), index_seconds=1.5, eval_seconds=2.0)
    assert list(summary) == SUMMARY_KEYS
    assert summary["questions"] == 5 and summary["answerable"] == 3
    assert summary["unanswerable"] == 2
    assert summary["hit@1"] == pytest.approx(1 / 3)
    assert summary["hit@3"] == pytest.approx(2 / 3)
    assert summary["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert summary["doc_recall@k"] == pytest.approx(2 / 3)
    assert summary["answered_correct"] == pytest.approx(1 / 3)
    # Short answers: "56 percent" (right), "Other." has none, the third question no evidence.
    assert summary["short_em"] == summary["short_f1"] == pytest.approx(1 / 3)
    assert summary["short_em_hit1"] == summary["short_f1_hit1"] == 1.0
    assert summary["short_match"] == pytest.approx(1 / 3)
    assert summary["false_abstention"] == pytest.approx(2 / 3)
    assert summary["abstain_precision"] == pytest.approx(1 / 3)  # 1 of 3 abstentions was right
    assert summary["abstain_recall"] == pytest.approx(1 / 2)
    assert summary["abstain_f1"] == pytest.approx(2 / (2 + 2 + 1))
    assert summary["coverage"] == pytest.approx(2 / 5)
    assert summary["accuracy"] == pytest.approx(1 / 2)
    assert summary["latency_p50_ms"] == pytest.approx(20.0)
    assert summary["latency_p95_ms"] == pytest.approx(29.0)
    assert summary["index_seconds"] == 1.5 and summary["eval_seconds"] == 2.0


def test_summarize_without_answerable_questions() -> None:
    summary = summarize(_rows()[3:])
    assert summary["hit@1"] is None and summary["mrr"] is None
    assert summary["doc_recall@k"] is None and summary["latency_p50_ms"] == 20.0


def _report(rows=None, mode: str = "hybrid", threshold: float = 0.35) -> EvalReport:
    rows = tuple(rows or _rows())
    curve = coverage_curve(
        [r.confidence for r in rows],
        [r.hit(1) for r in rows],
        [r.answerable for r in rows],
        threshold_grid(threshold),
    )
    return EvalReport(
        mode, 3, threshold, summarize(rows), rows, tuple(curve), source="dev/gold.jsonl"
    )


def test_calibrate_threshold_on_known_rows() -> None:
    choice = calibrate_threshold(_report())
    # Confidences 0.9 (right), 0.7 (unanswerable), 0.2, 0.1, 0.0: answering only 0.9 gives
    # answered & correct 1/3 + abstain recall 2/2, the best sum.
    assert choice.threshold == 0.9
    assert choice.point.coverage == pytest.approx(0.2) and choice.point.accuracy == 1.0
    assert choice.previous == 0.35
    note = choice.note()
    assert "gold.jsonl" in note and "coverage 0.200" in note and "accuracy 1.000" in note
    # The answer from 0.9 is right: answers are rated high from there.
    assert choice.high == 0.9 and "High from 0.9000: accuracy 1.000" in note


def test_write_outputs_and_table(tmp_path: Path) -> None:
    reports = {"bm25": _report(mode="bm25"), "hybrid": _report()}
    paths = write_outputs(reports, tmp_path / "out", corpus="corpus", command="rag eval x")
    names = sorted(p.name for p in paths)
    assert names == ["coverage_accuracy.png", "hit_by_mode.png", "report.json", "report.md"]
    for png in ("coverage_accuracy.png", "hit_by_mode.png"):
        assert (tmp_path / "out" / png).read_bytes()[:4] == b"\x89PNG"
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["primary_metric"] == "hit@1" and data["gold"] == "dev/gold.jsonl"
    assert set(data["summary"]) == {"bm25", "hybrid"}
    assert list(data["summary"]["hybrid"]) == SUMMARY_KEYS
    rows = data["reports"]["hybrid"]["rows"]
    assert len(rows) == 5 and {
        "question",
        "gold",
        "evidence",
        "confidence",
        "hit@1",
        "hit@3",
    } <= set(rows[0])
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "| metric | bm25 | hybrid |" in markdown and "doc recall@3" in markdown
    assert "![coverage / accuracy](coverage_accuracy.png)" in markdown
    # Each confidence level: from 0.35 two answers, one of them right; from 1.0 none.
    assert "## hybrid: confidence levels" in markdown
    assert "| medium | 0.3500 | 0.400 | 0.500 | 0.333 | 0.333 | 0.500 |" in markdown
    assert "| high | 1.0000 | 0.000 | – |" in markdown
    table = format_table(reports)
    assert "hit@1" in table and "0.333" in table and "threshold 0.3500" in table


# --- calibration writes one place -----------------------------------------------------------


def test_write_threshold_keeps_other_keys(tmp_path: Path) -> None:
    copy = tmp_path / "scorer.json"
    shutil.copy(SCORER, copy)
    original = json.loads(copy.read_text())
    write_threshold(0.42, "from dev.json: coverage 0.5", copy)
    write_threshold(0.43, "from dev.json: coverage 0.6", copy)
    data = json.loads(copy.read_text())
    assert data["threshold"] == 0.43 and data["threshold_note"] == "from dev.json: coverage 0.6"
    assert {k: v for k, v in data.items() if k not in ("threshold", "threshold_note")} == {
        k: v for k, v in original.items() if k not in ("threshold", "threshold_note")
    }
    keys = list(data)
    assert keys[keys.index("threshold") + 1] == "threshold_note"
    write_threshold(0.44, "levels", copy, high=0.81)
    write_threshold(0.45, "again", copy)  # without a high level, the last one stays
    data = json.loads(copy.read_text())
    keys = list(data)
    assert keys[keys.index("threshold") :][:3] == ["threshold", "threshold_note", "high_threshold"]
    assert data["threshold"] == 0.45 and data["high_threshold"] == 0.81
    with pytest.raises(ValueError, match="high threshold must be within"):
        write_threshold(0.4, "no", copy, high=2.0)
    with pytest.raises(ValueError, match="within"):
        write_threshold(1.5, "no", copy)
