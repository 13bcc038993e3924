"""The reader: its inputs, its best span, the shipped int8 model, its checksum, the cascade."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from rag.answer.reader import (
    MAX_ANSWER_TOKENS,
    READER_FILE,
    READER_MANIFEST,
    Reader,
    ReaderInput,
    best_span,
    encode_pair,
    load_tokenizer,
    pad,
)
from rag.answer.scorer import ReaderScorer, TreeScorer
from rag.errors import ReaderError

MANIFEST = json.loads(READER_MANIFEST.read_text())


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer()


def test_a_pair_carries_no_padding_and_its_context_when_it_fits(tokenizer) -> None:
    # The packaged tokenizer.json pads to 128 and truncates: read as it is, every question
    # arrived as its tokens plus [PAD]s, and the title and neighbours never fitted.
    item = ReaderInput(
        "Xinjiang e-commerce",
        "Xinjiang opened new logistics hubs.",
        "Live-streaming sales rose 56 percent.",
        "Officials credited rural couriers.",
    )
    encoded = encode_pair(tokenizer, "How much did sales grow?", item, 96)
    assert 0 not in encoded.ids  # [PAD] is id 0
    ids, _, mask = pad([encoded])
    assert mask.all() and ids.shape == (1, len(encoded.ids))
    text = tokenizer.decode(encoded.ids)
    for part in (
        "how much did sales grow",
        "xinjiang e - commerce",
        "logistics hubs",
        "rural couriers",
        "56 percent",
    ):
        assert part in text
    # The sentence follows the question; its tokens map back to its characters.
    words = [item.sentence[lo:hi] for lo, hi in encoded.offsets]
    assert words[:2] == ["Live", "-"] and words[-1] == "."
    assert encoded.ids[encoded.first - 1] == tokenizer.token_to_id("[SEP]")


def test_rows_of_a_batch_are_padded_to_its_longest_only(tokenizer) -> None:
    short = encode_pair(tokenizer, "Who?", ReaderInput("", "", "JD did.", ""), 96)
    longer = encode_pair(tokenizer, "Who signed it?", ReaderInput("T", "", "JD signed it.", ""), 96)
    ids, types, mask = pad([short, longer])
    assert ids.shape[1] == len(longer.ids) < 96
    assert mask[0].sum() == len(short.ids) and mask[1].all()


def test_running_short_shortens_the_context_never_the_sentence(tokenizer) -> None:
    sentence = "Xinjiang's live-streaming sales rose 56 percent in the first half."
    long = "filler words about other matters " * 40
    encoded = encode_pair(
        tokenizer, "How much did sales grow?", ReaderInput("Title", long, sentence, long), 96
    )
    assert len(encoded.ids) == len(encoded.types) == 96
    sentence_ids = tokenizer.encode(sentence, add_special_tokens=False).ids
    assert tokenizer.decode(sentence_ids) in tokenizer.decode(encoded.ids)
    assert set(encoded.types[: encoded.first]) == {0} and set(encoded.types[encoded.first :]) == {1}
    # A sentence longer than the room loses its end, not its start.
    cut = encode_pair(tokenizer, "q", ReaderInput("", "", "Sales rose. " * 60, ""), 48)
    assert len(cut.ids) <= 48 and cut.offsets[0] == (0, 5)


def test_best_span_keeps_start_before_end_and_answers_short(tokenizer) -> None:
    sentence = "alpha beta gamma delta epsilon"
    item = encode_pair(tokenizer, "q", ReaderInput("", "", sentence, ""), 32)
    starts, ends = np.zeros(len(item.ids)), np.zeros(len(item.ids))
    starts[item.first + 3] = 9.0  # the best start, "delta"
    ends[item.first + 1] = 9.0  # an end before it is never taken
    ends[item.first + 4] = 5.0
    lo, hi, score = best_span(starts, ends, item)
    assert sentence[lo:hi] == "delta epsilon" and 0.0 < score < 1.0
    words = " ".join(["word"] * 60)
    long = encode_pair(tokenizer, "q", ReaderInput("", "", words, ""), 96)
    starts, ends = np.zeros(len(long.ids)), np.zeros(len(long.ids))
    starts[long.first], ends[long.first + 50] = 9.0, 9.0
    lo, hi, _ = best_span(starts, ends, long)
    assert len(words[lo:hi].split()) <= MAX_ANSWER_TOKENS


def test_int8_model_ranks_and_reads_the_reference_pairs_as_the_fp32_model_did(reader) -> None:
    reference = MANIFEST["reference"]
    items = [ReaderInput(**item) for item in reference["items"]]
    readings = reader.read(reference["question"], items)
    logits = np.array([r.logit for r in readings])
    fp32 = np.array(reference["fp32_logits"])
    assert np.argsort(-logits).tolist() == np.argsort(-fp32).tolist()
    assert np.abs(logits - fp32).max() < 0.5  # int8 weights move logits, not the order
    assert int(np.argmax(logits)) == 0  # the answering sentence comes first
    span = readings[0].span
    assert span.text == reference["fp32_span"] == reference["int8_span"]
    assert "23 percent" in span.text
    assert items[0].sentence[span.start : span.end] == span.text


def test_a_sentence_read_again_is_not_run_again(reader, monkeypatch) -> None:
    items = [
        ReaderInput("T", "", "JD signed on November 26, 2024.", ""),
        ReaderInput("T", "", "", ""),
    ]
    first = reader.read("When did JD sign?", items)
    assert first[1].span is None and "November 26" in first[0].span.text
    monkeypatch.setattr(reader, "_run", lambda *a: pytest.fail("read twice"))
    assert reader.read("When did JD sign?", items) == first


def test_pairs_read_side_by_side_read_exactly_as_one_at_a_time() -> None:
    from rag.ingest.corpus import load_corpus
    from rag.ingest.text import split_sentences
    from tests.conftest import CORPUS

    items = []
    for article in load_corpus(CORPUS).articles:
        sentences = [article.text[a:b] for a, b in split_sentences(article.text)]
        items += [ReaderInput(article.title, sentences[i - 1] if i else "", sentences[i], "")
                  for i in range(1, len(sentences), 9)]  # fmt: skip
    question = "How much did Xinjiang live-streaming sales grow?"
    fresh = Reader()  # nothing remembered: every pair is run
    together = fresh._run(question, items)
    alone = [fresh._read_one(question, item) for item in items]
    assert len(items) > 10 and together == alone  # the same floats, not merely close
    # One padded batch would not do: int8 activations are scaled over the whole batch.
    encoded = [encode_pair(fresh._tokenizer, question, item, fresh.max_length) for item in items]
    ids, types, mask = pad(encoded)
    ranks = fresh._session.run(
        None, {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
    )[0]
    assert np.abs(ranks - np.array([r.logit for r in alone])).max() > 1e-4


def test_the_shipped_file_is_small_and_matches_its_manifest() -> None:
    assert READER_FILE.stat().st_size == MANIFEST["bytes"] < 30 * 2**20
    assert MANIFEST["max_length"] >= 64 and 1 <= MANIFEST["layers"] <= 6
    assert {"reader", "trees", "bias"} <= MANIFEST["blend"].keys()
    assert 0.0 < MANIFEST["threshold"] < 1.0


def test_a_damaged_model_is_an_error_that_says_how_to_export_again(tmp_path) -> None:
    shutil.copy(READER_MANIFEST, tmp_path / "reader.json")
    damaged = tmp_path / "reader.int8.onnx"
    data = bytearray(READER_FILE.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ReaderError, match="rag train --reader --export-only"):
        Reader(damaged)
    with pytest.raises(ReaderError, match="checksum"):
        ReaderScorer.load(TreeScorer.load(), damaged)


def test_a_missing_model_is_an_error_not_a_fallback(tmp_path) -> None:
    with pytest.raises(ReaderError, match="no reader model"):
        ReaderScorer.load(TreeScorer.load(), tmp_path / "reader.int8.onnx")


def test_the_cascade_reads_the_trees_best_and_puts_the_answer_first(assistant) -> None:
    reading = assistant.with_scorer("reader")
    assert isinstance(reading.composer.scorer, ReaderScorer)
    assert reading.threshold == MANIFEST["threshold"]
    (cands,) = reading.candidate_sets(
        ["How much did Xinjiang live-streaming sales grow?"], "hybrid"
    )
    probabilities = reading.composer.scorer.probabilities(cands, "hybrid")
    assert probabilities.shape == (len(cands.candidates),)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    best = cands.candidates[int(np.argmax(probabilities))]
    assert "56 percent" in best.text
