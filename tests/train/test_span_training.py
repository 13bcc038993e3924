"""`rag train --span`: examples from SQuAD, token targets, and a tiny train, resume and export."""

from __future__ import annotations

import json
from pathlib import Path

from rag.answer.reader import ReaderInput, encode_pair, load_tokenizer
from rag.train.reader import token_targets
from rag.train.span import span_examples

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
    item = encode_pair(tokenizer, "Who built it?", ReaderInput("", "", sentence, ""), 64)
    first, last = token_targets(item, 0, len("Thomas Newcomen"))
    assert tokenizer.decode(item.ids[first : last + 1]) == "thomas newcomen"
    short = encode_pair(tokenizer, "Who built it?", ReaderInput("", "", sentence, ""), 10)
    assert token_targets(short, sentence.index("1712"), sentence.index("1712") + 4) is None
