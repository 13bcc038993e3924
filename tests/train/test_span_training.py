"""`rag train --span`: examples from SQuAD, token targets, and a tiny train, resume and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.extract import SpanReader, encode_span_input, load_tokenizer
from rag.train.pipeline import train_span_and_export
from rag.train.span import SpanTraining, span_examples, token_targets, train_span

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _squad(tmp_path: Path, context: str, qas: list[dict]) -> Path:
    path = tmp_path / "squad.json"
    data = {"data": [{"title": "T", "paragraphs": [{"context": context, "qas": qas}]}]}
    path.write_text(json.dumps(data))
    return path


def test_examples_take_the_sentence_that_asks_about_the_answer(tmp_path) -> None:
    # "1769" occurs twice; answer_start names the first, the question is about the second.
    context = "Watt was born in 1736. He patented his improved engine in 1769. He died in 1819."
    qas = [
        {"id": "q1", "question": "When did Watt patent the improved engine?",
         "answers": [{"text": "1769", "answer_start": context.index("1769")}]},
        {"id": "q2", "question": "What?", "is_impossible": True, "answers": []},
        {"id": "q3", "question": "Which years?",  # crosses a sentence boundary: skipped
         "answers": [{"text": "1736. He", "answer_start": context.index("1736")}]},
    ]
    (example,) = list(span_examples(_squad(tmp_path, context, qas)))
    assert example.sentence == "He patented his improved engine in 1769."
    assert example.sentence[example.start : example.end] == "1769"


def test_token_targets_cover_the_answer_and_refuse_a_cut_one() -> None:
    tokenizer = load_tokenizer()
    sentence = "Thomas Newcomen built the first commercial steam engine in 1712."
    item = encode_span_input(tokenizer, "Who built it?", sentence, 64)
    first, last = token_targets(item, 0, len("Thomas Newcomen"))
    assert tokenizer.decode(item.ids[first : last + 1]) == "thomas newcomen"
    short = encode_span_input(tokenizer, "Who built it?", sentence, 10)
    assert token_targets(short, sentence.index("1712"), sentence.index("1712") + 4) is None


@pytest.mark.slow
def test_train_resume_and_export_a_tiny_span_model(tmp_path) -> None:
    files = [FIXTURES / "squad_v1.json", FIXTURES / "squad_v2.json"]
    work, out = tmp_path / "work", tmp_path / "models" / "span.int8.onnx"
    tiny = SpanTraining(layers=1, max_length=48, validation_articles=1, checkpoint_every=1)
    train_span(files, work, tiny)
    log = (work / "train.log").read_text()
    assert "resuming at step 0 of" in log and "held-out" in log
    manifest = train_span_and_export(files, work, out=out, export_only=True)
    assert json.loads(out.with_name("span.json").read_text())["sha256"] == manifest["sha256"]
    assert manifest["reference"]["int8_span"] is not None
    found = SpanReader(out).spans("When was it built?", ["It was built in 1712."])[0]
    assert found is not None and "It was built in 1712."[found.start : found.end] == found.text
    # A second run in a fresh folder resumes from its checkpoint instead of starting over.
    train_span(files, work, tiny)
    starts = [line for line in (work / "train.log").read_text().splitlines() if "resuming" in line]
    assert len(starts) == 2 and "resuming at step 0 of" not in starts[-1]
