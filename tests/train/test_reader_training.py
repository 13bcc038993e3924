"""`rag train --reader` end to end on tiny SQuAD files: lists, warm start, resume, export, load."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from rag.answer.reader import Reader, ReaderInput
from rag.train.model import build_model
from rag.train.perturb import perturbed_lists
from rag.train.pipeline import train_and_export, train_span_and_export
from rag.train.reader import TrainingSettings, train_reader
from rag.train.reader_data import Pair, locate, read_lists
from rag.train.span import SpanTraining

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_the_answer_is_located_as_written_else_in_any_case() -> None:
    sentence = "Thomas Newcomen built it in 1712."
    assert locate(sentence, ["1712"]) == (28, 32)
    assert locate(sentence, ["thomas newcomen"]) == (0, 15)
    assert locate(sentence, ["James Watt"]) == (-1, -1)


def _list(group: str, question: str, title: str, sentence: str) -> list[Pair]:
    positive = Pair(group, question, title, "", sentence, "", 0.9, 1, "answerable", 0, 4)
    negative = replace(positive, sentence="Something else happened.", label=0, tree=0.1)
    return [positive, negative]


def test_a_swapped_question_names_what_its_list_never_mentions() -> None:
    lists = [
        _list("a", "When did Watt patent the engine in Glasgow?", "Watt", "Watt did in 1769."),
        _list("b", "Who ruled Prussia in 1740?", "Prussia", "Frederick ruled from 1740."),
    ]
    swapped = perturbed_lists(lists, 10, seed=1)
    assert swapped and all(r.label == 0 and r.kind == "swapped" for rows in swapped for r in rows)
    for rows in swapped:
        (source,) = [group for group in lists if group[0].group == rows[0].group[:1]]
        assert rows[0].question != source[0].question
        seen = " ".join(r.sentence + r.title for r in source).lower()
        new_words = set(rows[0].question.split()) - set(source[0].question.split())
        assert new_words and not any(w.lower().strip("?") in seen for w in new_words)


@pytest.mark.slow
def test_span_model_then_reader_trained_resumed_and_exported(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = [FIXTURES / "squad_v1.json", FIXTURES / "squad_v2.json"]
    span_work = tmp_path / "span"
    tiny_span = SpanTraining(layers=1, max_length=48, validation_articles=1, checkpoint_every=1)
    from rag.train.span import train_span

    train_span(files, span_work, tiny_span)
    span = train_span_and_export(files, span_work, export_only=True)
    assert (span_work / "span.int8.onnx").is_file() and span["layers"] == 1
    # The reader starts from the span model: its encoder and span head, dequantized.
    start = build_model(1, 13, span_work / "span.int8.onnx")
    assert start.bert.encoder.layer[0].attention.self.query.weight.abs().sum() > 0

    work, out = tmp_path / "work", tmp_path / "models" / "reader.int8.onnx"
    tiny = TrainingSettings(
        layers=1,
        max_length=48,
        validation=2,
        checkpoint_minutes=0.0,
        warm_start=str(span_work / "span.int8.onnx"),
    )
    manifest = train_and_export(files[0], files[1], work, tiny, articles=2, out=out)
    lists = list(read_lists(work / "lists.jsonl"))
    kinds = {rows[0].kind for rows in lists}
    assert {"answerable", "unanswerable"} <= kinds
    assert all(any(r.label for r in rows) for rows in lists if rows[0].kind == "answerable")
    assert all(not any(r.label for r in rows) for rows in lists if rows[0].kind != "answerable")
    log = (work / "train.log").read_text()
    assert "resuming at step 0" in log and "held-out" in log
    assert (work / "final" / "model.safetensors").is_file()
    # The export is checksummed, carries its blend and reads rank and span in one pass.
    saved = json.loads(out.with_name("reader.json").read_text())
    assert saved["sha256"] == manifest["sha256"] and manifest["bytes"] < 30 * 2**20
    assert {"reader", "trees", "bias"} <= saved["blend"].keys()
    sentence = "Watt improved it in 1769."
    (reading,) = Reader(out).read(
        "When did Watt improve the engine?", [ReaderInput("Steam engine", "", sentence, "")]
    )
    assert isinstance(reading.logit, float)
    assert sentence[reading.span.start : reading.span.end] == reading.span.text
    # A rerun finds the finished model and only exports it again.
    again = train_and_export(None, None, work, tiny, out=out, export_only=True)
    assert Reader(out).manifest["sha256"] == again["sha256"]
    # Training resumes from its last checkpoint instead of starting over.
    train_reader(work / "lists.jsonl", tmp_path / "again", tiny)
    train_reader(work / "lists.jsonl", tmp_path / "again", tiny)
    starts = [
        line
        for line in (tmp_path / "again" / "train.log").read_text().splitlines()
        if "resuming at step" in line
    ]
    assert len(starts) == 2 and "resuming at step 0 of" in starts[0]
    assert "resuming at step 0 of" not in starts[1]


def test_minutes_cut_the_plan_and_the_cut_survives_a_resume() -> None:
    import torch

    from rag.train.reader import Horizon

    def schedule(horizon: Horizon):
        weight = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.AdamW([weight], lr=1e-3)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, horizon)

    horizon = Horizon(1000)
    # 50 steps timed at 2 a second, 100 s left: 200 more steps fit, and the decay ends there.
    horizon.fit(done=50, pace=2.0, seconds_left=100.0)
    assert (horizon.steps, horizon.fitted) == (250, True)
    assert horizon(249) > 0 and horizon(250) == 0
    # A plan shorter than the time left is never lengthened.
    short = Horizon(100)
    short.fit(done=50, pace=100.0, seconds_left=600.0)
    assert short.steps == 100
    # A checkpoint's schedule state carries the cut, so a resumed run ends at the same step.
    resumed = schedule(Horizon(1000))
    resumed.load_state_dict(schedule(horizon).state_dict())
    assert (resumed.lr_lambdas[0].steps, resumed.lr_lambdas[0].fitted) == (250, True)


def test_answerable_lists_thin_by_question_id_and_unanswerable_ones_stay(tmp_path) -> None:
    from rag.train.reader import split_lists

    def row(group: str, kind: str) -> Pair:
        label = int(kind == "answerable")
        return Pair(group, "Q?", "T", "", "S.", "", 0.5, label, kind)

    lists = tmp_path / "lists.jsonl"
    groups = [(f"q{i}", "answerable" if i % 4 else "unanswerable") for i in range(400)]
    lists.write_text("".join(json.dumps(asdict(row(g, k))) + "\n" for g, k in groups))
    settings = TrainingSettings(validation=0)
    _, every = split_lists(lists, settings)
    _, thinned = split_lists(lists, replace(settings, answerable_share=0.5))
    kinds = [rows[0].kind for rows in thinned]
    assert kinds.count("unanswerable") == 100  # the scarce kind always stays
    assert 120 <= kinds.count("answerable") <= 180  # about half of 300
    # The same lists stay in every run: chosen by question id, not by the shuffle.
    _, again = split_lists(lists, replace(settings, answerable_share=0.5, seed=99))
    kept = {r[0].group for r in thinned}
    assert {r[0].group for r in again} == kept and kept < {r[0].group for r in every}


def test_list_making_thins_the_answerable_questions_as_training_would() -> None:
    # `prepare` retrieves only the answerable questions that `split_lists` would keep: the
    # same rule on the question id, so thinning early changes no list that training sees.
    from rag.train.reader_data import kept

    ids = [f"5726{i:05d}" for i in range(1000)]
    chosen = [i for i in ids if kept(i, "answerable", 0.6)]
    assert 540 <= len(chosen) <= 660
    assert chosen == [i for i in ids if kept(i, "answerable", 0.6)]  # the same on every run
    assert all(kept(i, "unanswerable", 0.6) and kept(i, "foreign", 0.1) for i in ids)
    assert all(kept(i, "answerable", 1.0) for i in ids)
