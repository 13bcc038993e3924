"""Tests for rag.evaluate: metrics on hand-built cases, gold readers, calibration, end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.evaluate import (
    METRICS,
    CurvePoint,
    EvalReport,
    GoldError,
    GoldPair,
    abstention_metrics,
    calibrate_threshold,
    choose_threshold,
    contains_answer,
    coverage_curve,
    first_hit,
    format_table,
    hit_at_k,
    normalize,
    percentile,
    read_gold,
    read_squad,
    reciprocal_rank,
    result_row,
    summarize,
    threshold_grid,
    write_outputs,
    write_squad_corpus,
    write_threshold,
)
from rag.types import Answer, Evidence

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures")
CORPUS = ROOT / "corpus"
GOLD = CORPUS / "gold_qa.jsonl"
SCORER = ROOT / "rag" / "scorer.json"
SUMMARY_KEYS = [key for key, *_ in METRICS]


def _evidence(text: str, doc_id: str = "d1", score: float = 0.5) -> Evidence:
    return Evidence(text=text, doc_id=doc_id, title=doc_id, publisher="", published="",
                    start=0, end=len(text), score=score)


def _answer(texts: list[str], *, abstained: bool = False, confidence: float = 0.5,
            docs: list[str] | None = None) -> Answer:
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
        "abstain_precision": None, "abstain_recall": None, "abstain_f1": None,
        "false_abstention": None,
    }
    with pytest.raises(ValueError, match="same length"):
        abstention_metrics([True], [])


CONF = [0.9, 0.5, 0.5, 0.2]
CORRECT = [True, True, True, False]  # the third is unanswerable: never correct when answered
ANSWERABLE = [True, True, False, True]


def test_coverage_curve_known_values_and_ties() -> None:
    points = {p.threshold: p for p in coverage_curve(CONF, CORRECT, ANSWERABLE,
                                                     [0.0, 0.5, 0.6, 1.0])}
    assert points[0.0] == CurvePoint(0.0, 1.0, 0.5, 2 / 3, 0.0)
    # Both 0.5 confidences are answered at t = 0.5 (confidence >= t answers).
    assert points[0.5] == CurvePoint(0.5, 0.75, 2 / 3, 2 / 3, 0.0)
    assert points[0.6] == CurvePoint(0.6, 0.25, 1.0, 1 / 3, 1.0)
    assert points[1.0] == CurvePoint(1.0, 0.0, None, 0.0, 1.0)
    assert coverage_curve([], [], [], [0.5]) == [CurvePoint(0.5, None, None, None, None)]
    with pytest.raises(ValueError, match="same length"):
        coverage_curve([0.1], [], [], [0.5])


def test_choose_threshold_keeps_right_answers_and_prefers_lowest_on_ties() -> None:
    points = coverage_curve(CONF, CORRECT, ANSWERABLE, [0.2, 0.5, 0.6, 0.9, 1.0])
    # 0.6 would abstain on the unanswerable one but halves the right answers (2/3 -> 1/3),
    # below 90% of the best; 0.2 and 0.5 keep 2/3 and tie on recall: the lower one wins.
    assert choose_threshold(points).threshold == 0.2
    # With the unanswerable question held back at no cost, the higher threshold wins.
    cheap = coverage_curve([0.9, 0.8, 0.3, 0.2], [True, True, True, False],
                           [True, True, False, True], [0.2, 0.3, 0.5, 0.85])
    assert choose_threshold(cheap).threshold == 0.5
    with pytest.raises(ValueError):
        choose_threshold([])


def test_threshold_grid_holds_the_current_threshold() -> None:
    grid = threshold_grid(0.355)
    assert grid[0] == 0.0 and grid[-1] == 1.0 and 0.355 in grid and 0.07 in grid
    assert len(grid) == 102


def test_percentile() -> None:
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], 101)


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
        _answer(["Other.", "Rose 15 percent."], abstained=True, confidence=0.2,
                docs=["d1", "d2"]),
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
    assert row["gold"] == {"answers": ["15 percent"], "doc_id": "d2", "answerable": True}
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
    curve = coverage_curve([r.confidence for r in rows], [r.hit(1) for r in rows],
                           [r.answerable for r in rows], threshold_grid(threshold))
    return EvalReport(mode, 3, threshold, summarize(rows), rows, tuple(curve),
                      source="dev/gold.jsonl")


def test_calibrate_threshold_on_known_rows() -> None:
    choice = calibrate_threshold(_report())
    # Confidences 0.9 (right), 0.7 (unanswerable), 0.2, 0.1, 0.0: answering only 0.9 gives
    # answered & correct 1/3 + abstain recall 2/2, the best sum.
    assert choice.threshold == 0.9
    assert choice.point.coverage == pytest.approx(0.2) and choice.point.accuracy == 1.0
    assert choice.previous == 0.35
    note = choice.note()
    assert "gold.jsonl" in note and "coverage 0.200" in note and "accuracy 1.000" in note


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
    assert len(rows) == 5 and {"question", "gold", "evidence", "confidence", "hit@1",
                               "hit@3"} <= set(rows[0])
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "| metric | bm25 | hybrid |" in markdown and "doc recall@3" in markdown
    assert "![coverage / accuracy](coverage_accuracy.png)" in markdown
    table = format_table(reports)
    assert "hit@1" in table and "0.333" in table and "threshold 0.3500" in table


# --- gold readers ---------------------------------------------------------------------------


def test_read_gold_bundled() -> None:
    pairs = read_gold(GOLD)
    assert len(pairs) == 70 and sum(p.answerable for p in pairs) == 54
    assert pairs[0] == GoldPair("g001", "How much did Xinjiang live-streaming sales grow?",
                                ("56 percent",), "004_62637a1ca6fb8c94", True)
    assert all(p.doc_id is None and not p.answers for p in pairs if not p.answerable)


GOOD = '{"id": "q1", "question": "Q?", "answers": ["a"], "doc_id": null, "answerable": true}'


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "q2", "question": "Q?", "doc_id": null}', r"gold\.jsonl:3: missing key 'answers'"),
        ('{"id": "q2", "question": "Q?", "answers": "a"}', r":3: 'answers' must be a list"),
        ('{"id": "q2", "question": "", "answers": ["a"]}', r":3: 'question' must be a non-empty"),
        ('{"id": true, "question": "Q?", "answers": ["a"]}', r":3: 'id' must be a string"),
        ('{"id": "q2", "question": "Q?", "answers": [], "answerable": true}',
         r":3: 'answerable' is true but 'answers' is empty"),
        ('{"id": "q2", "question": "Q?", "answers": ["a"], "answerable": "yes"}',
         r":3: 'answerable' must be true or false"),
        ('{"id": "q2", "question": "Q?", "answers": ["a"], "doc_id": 4}', r":3: 'doc_id' must"),
        ('{"id": "q1", "question": "Q?", "answers": ["a"]}',
         r":3: id 'q1' is already used on line 1"),
        ('{"id": "q2", "question": "Q?",', r"gold\.jsonl:3: not valid JSON"),
        ('["q2", "Q?"]', r":3: expected a JSON object"),
    ],
)
def test_read_gold_errors_name_file_and_line(tmp_path: Path, bad_line: str, message: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(f"{GOOD}\n\n{bad_line}\n")  # a blank line is skipped, but still counted
    with pytest.raises(GoldError, match=message):
        read_gold(path)


def test_read_gold_defaults_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": 7, "question": "Q?", "answers": []}\n')
    assert read_gold(path) == [GoldPair("7", "Q?", (), None, False)]
    path.write_text("\n\n")
    with pytest.raises(GoldError, match="no gold pairs"):
        read_gold(path)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_gold(tmp_path / "missing.jsonl")


def test_read_squad_v1() -> None:
    squad = read_squad(FIXTURES / "squad_v1.json")
    assert squad.version == "1.1"
    assert [a.doc_id for a in squad.articles] == ["steam-engine", "zurich-zoo"]
    assert [a.title for a in squad.articles] == ["Steam engine", "Zürich Zoo"]
    assert squad.articles[0].text.startswith("Steam engines are external")
    assert "in 1712.\n\nJames Watt" in squad.articles[0].text  # paragraphs joined
    assert squad.pairs[0] == GoldPair(
        "v1-q1", "Who built the first commercial steam engine?", ("Thomas Newcomen", "Newcomen"),
        "steam-engine", True,
    )
    assert all(p.answerable for p in squad.pairs) and squad.pairs[2].doc_id == "zurich-zoo"


def test_read_squad_v2_unanswerable() -> None:
    squad = read_squad(FIXTURES / "squad_v2.json")
    assert squad.version == "v2.0" and len(squad.pairs) == 6
    impossible = [p for p in squad.pairs if not p.answerable]
    assert [p.id for p in impossible] == ["v2-q3", "v2-q5"]
    assert all(p.answers == () and p.doc_id is None for p in impossible)
    assert squad.pairs[0].answers == ("October 1973",)  # repeated answers kept once
    assert read_gold(FIXTURES / "squad_v2.json") == list(squad.pairs)


def test_read_squad_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"version": "v2.0", "rows": []}')
    with pytest.raises(GoldError, match="not SQuAD JSON"):
        read_squad(path)
    path.write_text('{"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}')
    with pytest.raises(GoldError, match=r"data\[0\]\.paragraphs\[0\]: not in SQuAD form"):
        read_squad(path)
    path.write_text('{"data": [\n{"title": ')
    with pytest.raises(GoldError, match=r"bad\.json:2: not valid JSON"):
        read_squad(path)


def test_squad_corpus_round_trip(tmp_path: Path) -> None:
    from rag.corpus import load_corpus

    squad = read_squad(FIXTURES / "squad_v1.json")
    folder = write_squad_corpus(squad, tmp_path / "corpus")
    loaded = load_corpus(folder)
    assert [a.doc_id for a in loaded.articles] == ["steam-engine", "zurich-zoo"]
    assert [a.title for a in loaded.articles] == ["Steam engine", "Zürich Zoo"]
    assert [a.text for a in loaded.articles] == [a.text for a in squad.articles]
    before = (folder / "articles.jsonl").stat().st_mtime_ns
    write_squad_corpus(squad, folder)  # unchanged content is not rewritten
    assert (folder / "articles.jsonl").stat().st_mtime_ns == before


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
    with pytest.raises(ValueError, match="within"):
        write_threshold(1.5, "no", copy)


# --- end to end on the real corpus ----------------------------------------------------------

E2E_IDS = ("g001", "g002", "g046", "g055", "g060")


@pytest.fixture(scope="module")
def embedder():
    from rag.dense import Embedder

    return Embedder()


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="module")
def assistant(embedder, index_dir):
    from rag.assistant import Assistant

    # A private index folder: the CLI test below reloads it instead of building again.
    return Assistant.from_corpus(CORPUS, index_dir, embedder=embedder)


@pytest.fixture()
def few_pairs() -> list[GoldPair]:
    return [p for p in read_gold(GOLD) if p.id in E2E_IDS]


def test_evaluate_real_corpus(assistant, few_pairs) -> None:
    import rag

    report = rag.evaluate(assistant, few_pairs, mode="hybrid")
    assert isinstance(report, EvalReport) and report.mode == "hybrid" and report.top_k == 3
    assert list(report.summary) == SUMMARY_KEYS and report.primary == report.summary["hit@1"]
    assert report.summary["questions"] == 5 and report.summary["unanswerable"] == 2
    assert report.threshold == assistant.settings.threshold
    rows = {r.id: r for r in report.rows}
    assert set(rows) == set(E2E_IDS)
    xinjiang = rows["g001"]
    assert xinjiang.hit(1) and xinjiang.doc_rank == 1 and xinjiang.evidence
    assert "56 percent" in xinjiang.evidence[0].text
    assert all(0.0 <= r.confidence <= 1.0 for r in report.rows)
    assert 1 <= sum(r.seconds is not None for r in report.rows) <= 5
    assert report.summary["latency_p50_ms"] > 0 and report.summary["index_seconds"] > 0
    assert any(p.threshold == report.threshold for p in report.curve)
    json.dumps(report.to_dict())  # JSON-ready


def test_rag_evaluate_stays_callable_after_submodule_import(assistant, few_pairs) -> None:
    import rag
    import rag.evaluate

    report = rag.evaluate(assistant, few_pairs[:1], mode="bm25", latency_sample=0)
    assert report.summary["questions"] == 1 and report.summary["latency_p50_ms"] is None


def test_evaluate_rejects_bad_settings(assistant, few_pairs) -> None:
    from rag.evaluate import evaluate

    with pytest.raises(ValueError, match="mode must be one of"):
        evaluate(assistant, few_pairs, mode="sparse")
    with pytest.raises(ValueError, match="top_k"):
        evaluate(assistant, few_pairs, top_k=0)
    report = evaluate(assistant, [GoldPair("x", "How much did sales grow?", ("1",), "nope")],
                      latency_sample=0)
    assert "not in the corpus" in report.warnings[0]


@pytest.fixture()
def patched_embedder(monkeypatch: pytest.MonkeyPatch, embedder, tmp_path: Path):
    # The CLI builds its own Assistant; hand it the module's model instead of loading another.
    monkeypatch.setattr("rag.assistant.Embedder", lambda *args, **kwargs: embedder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return embedder


def test_cli_eval_gold_all_modes(tmp_path: Path, assistant, index_dir, patched_embedder,
                                 few_pairs, capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": p.id, "question": p.question,
                                        "answers": list(p.answers), "doc_id": p.doc_id,
                                        "answerable": p.answerable}) + "\n"
                            for p in few_pairs))
    out = tmp_path / "out"
    code = main(["eval", str(gold), "--mode", "all", "--out", str(out), "--index", str(index_dir)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "loaded index" in printed and "hit@1" in printed and "bm25" in printed
    data = json.loads((out / "report.json").read_text())
    assert set(data["reports"]) == {"bm25", "dense", "hybrid"}
    assert data["command"].startswith("rag eval ") and "--mode all" in data["command"]
    for report in data["reports"].values():
        assert len(report["rows"]) == 5 and report["summary"]["questions"] == 5
    hybrid = {row["id"]: row for row in data["reports"]["hybrid"]["rows"]}
    assert hybrid["g001"]["hit@1"] is True
    assert (out / "coverage_accuracy.png").is_file() and (out / "hit_by_mode.png").is_file()


def test_cli_eval_squad_calibrates_a_copy(tmp_path: Path, patched_embedder,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    scorer = tmp_path / "scorer.json"
    shutil.copy(SCORER, scorer)
    real_before = SCORER.read_bytes()
    code = main(["eval", "--squad", str(FIXTURES / "squad_v2.json"), "--out",
                 str(tmp_path / "out"), "--calibrate", "--scorer", str(scorer)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "calibrated threshold" in printed and str(scorer) in printed
    data = json.loads(scorer.read_text())
    assert 0.0 <= data["threshold"] <= 1.0
    assert "squad_v2.json" in data["threshold_note"] and "coverage" in data["threshold_note"]
    assert SCORER.read_bytes() == real_before  # the real scorer is left alone
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["summary"]["hybrid"]["unanswerable"] == 2
    assert (tmp_path / "cache" / "rag-news").is_dir()  # SQuAD corpus and index are cached


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "missing.jsonl"], "not found"),
        (["eval", "--squad", "x.json", "--corpus", "corpus"], "--squad FILE is both"),
        (["eval", "--calibrate", "--mode", "all"], "--calibrate chooses one threshold"),
        (["eval", "--top-k", "0"], "--top-k must be a positive integer"),
        (["eval", "--corpus", "/nonexistent-corpus"], "no GOLD file given"),
    ],
)
def test_cli_eval_errors_before_loading_the_model(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    from rag.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("rag.assistant.Assistant.from_corpus",
                        lambda *a, **k: pytest.fail("loaded the model"))
    assert main(argv) == 2
    assert message in capsys.readouterr().err


# --- the full SQuAD development file --------------------------------------------------------


@pytest.mark.slow
def test_full_squad_dev_eval(embedder, tmp_path: Path) -> None:
    from rag.assistant import Assistant
    from rag.evaluate import evaluate

    dev = ROOT.parent / "shared" / "data" / "squad2_dev_subset.json"
    if not dev.is_file():
        pytest.skip(f"{dev} not present")
    squad = read_squad(dev)
    folder = write_squad_corpus(squad, tmp_path / "corpus")
    assistant = Assistant.from_corpus(folder, index_dir=None, embedder=embedder)
    report = evaluate(assistant, dev, mode="hybrid")
    assert report.summary["questions"] == 5452 and report.summary["unanswerable"] == 2835
    # The levels the shipped scorer reached (hit@1 0.807, hit@3 0.916, answered & correct 0.726),
    # a little below: a regression in retrieval or the composer shows here first.
    floors = {"doc_recall@k": 0.98, "hit@1": 0.8, "hit@3": 0.91, "answered_correct": 0.72}
    reached = {name: report.summary[name] for name in floors}
    assert all(reached[name] >= floor for name, floor in floors.items()), reached
