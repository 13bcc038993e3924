"""The reader: the shipped int8 model, its checksum, its inputs, and the cascade it scores in."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from tokenizers import Tokenizer

from rag.errors import ReaderError
from rag.reader import (
    READER_FILE,
    READER_MANIFEST,
    Reader,
    ReaderInput,
    encode_pair,
    tokenizer_file,
)
from rag.scorer import ReaderScorer, TreeScorer

MANIFEST = json.loads(READER_MANIFEST.read_text())


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def test_int8_model_ranks_the_reference_pairs_as_the_fp32_model_did(reader) -> None:
    reference = MANIFEST["reference"]
    items = [ReaderInput(**item) for item in reference["items"]]
    logits = reader.logits(reference["question"], items)
    fp32 = np.array(reference["fp32_logits"])
    assert np.argsort(-logits).tolist() == np.argsort(-fp32).tolist()
    assert np.abs(logits - fp32).max() < 0.5  # int8 weights move logits, not the order
    # The answering sentence of the reference set is the one the reader puts first.
    assert int(np.argmax(logits)) == 0


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


def test_truncation_shortens_the_context_never_the_sentence() -> None:
    tokenizer = Tokenizer.from_file(str(tokenizer_file()))
    sentence = "Xinjiang's live-streaming sales rose 56 percent in the first half."
    long = "filler words about other matters " * 40
    ids, types = encode_pair(
        tokenizer, "How much did sales grow?", "Title", long, sentence, long, 96
    )
    assert len(ids) == len(types) <= 96
    sentence_ids = tokenizer.encode(sentence, add_special_tokens=False).ids
    text = tokenizer.decode(ids)
    assert tokenizer.decode(sentence_ids) in text
    first_sep = ids.index(tokenizer.token_to_id("[SEP]"))
    assert set(types[: first_sep + 1]) == {0} and set(types[first_sep + 1 :]) == {1}


def test_the_cascade_reads_the_trees_best_and_puts_the_answer_first(assistant) -> None:
    reading = assistant.with_scorer("reader")
    assert isinstance(reading.composer.scorer, ReaderScorer)
    assert reading.threshold == MANIFEST["threshold"]
    assert reading.threshold != assistant.threshold
    (cands,) = reading.candidate_sets(
        ["How much did Xinjiang live-streaming sales grow?"], "hybrid"
    )
    probabilities = reading.composer.scorer.probabilities(cands, "hybrid")
    assert probabilities.shape == (len(cands.candidates),)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    best = cands.candidates[int(np.argmax(probabilities))]
    assert "56 percent" in best.text
