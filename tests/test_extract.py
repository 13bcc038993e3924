"""The span model: its inputs, its best-span search, the shipped int8 file and its checksum."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from rag.errors import ReaderError
from rag.extract import (
    MAX_ANSWER_TOKENS,
    SPAN_FILE,
    SpanReader,
    best_span,
    encode_span_input,
    load_tokenizer,
)

MANIFEST = json.loads(SPAN_FILE.with_name("span.json").read_text())


@pytest.fixture(scope="module")
def spans() -> SpanReader:
    return SpanReader()


def test_inputs_carry_each_sentence_token_back_to_its_characters() -> None:
    tokenizer = load_tokenizer()
    sentence = "JD Group signed 12 agreements with Chongqing on November 26."
    item = encode_span_input(tokenizer, "Who signed the agreements?", sentence, 96)
    assert item.ids[0] == tokenizer.token_to_id("[CLS]")
    assert item.ids[item.first - 1] == item.ids[-1] == tokenizer.token_to_id("[SEP]")
    assert 0 not in item.ids  # no padding inside the pair: padding is the batch's business
    assert set(item.types[: item.first]) == {0} and set(item.types[item.first :]) == {1}
    words = [sentence[lo:hi] for lo, hi in item.offsets]
    assert words[:3] == ["JD", "Group", "signed"] and words[-1] == "."
    assert len(item.offsets) == len(item.ids) - item.first - 1


def test_a_long_sentence_loses_its_end_not_its_start() -> None:
    sentence = "Sales rose 56 percent. " + "More words follow here. " * 60
    item = encode_span_input(load_tokenizer(), "How much did sales rise?", sentence, 48)
    assert len(item.ids) == 48
    assert sentence[item.offsets[0][0] : item.offsets[2][1]] == "Sales rose 56"


def test_best_span_keeps_start_before_end_and_answers_short() -> None:
    item = encode_span_input(load_tokenizer(), "q", "alpha beta gamma delta epsilon", 32)
    width = len(item.ids)
    starts, ends = np.zeros(width), np.zeros(width)
    starts[item.first + 3] = 9.0  # the best start, "delta"
    ends[item.first + 1] = 9.0  # an end before it is never taken
    ends[item.first + 4] = 5.0
    lo, hi, score = best_span(starts, ends, item)
    assert "alpha beta gamma delta epsilon"[lo:hi] == "delta epsilon"
    assert 0.0 < score < 1.0
    long = encode_span_input(load_tokenizer(), "q", " ".join(["word"] * 60), 96)
    starts, ends = np.zeros(len(long.ids)), np.zeros(len(long.ids))
    starts[long.first], ends[long.first + 50] = 9.0, 9.0
    lo, hi, _ = best_span(starts, ends, long)
    assert len(" ".join(["word"] * 60)[lo:hi].split()) <= MAX_ANSWER_TOKENS


def test_int8_model_finds_the_span_the_fp32_model_found(spans) -> None:
    reference = MANIFEST["reference"]
    found = spans.spans(reference["question"], [reference["sentence"]])[0]
    assert found.text == reference["fp32_span"] == reference["int8_span"] == "JD Group"
    assert reference["sentence"][found.start : found.end] == found.text


def test_the_shipped_file_is_small_and_matches_its_manifest() -> None:
    assert SPAN_FILE.stat().st_size == MANIFEST["bytes"] < 30 * 2**20
    assert MANIFEST["max_length"] >= 64 and 1 <= MANIFEST["layers"] <= 6


def test_empty_sentences_have_no_span_and_the_rest_are_read_in_one_batch(spans) -> None:
    found = spans.spans("When did JD sign?", ["", "JD signed on November 26, 2024."])
    assert found[0] is None
    assert found[1] is not None and "November 26" in found[1].text


def test_a_damaged_model_is_an_error_that_says_how_to_export_again(tmp_path) -> None:
    shutil.copy(SPAN_FILE.with_name("span.json"), tmp_path / "span.json")
    damaged = tmp_path / "span.int8.onnx"
    data = bytearray(SPAN_FILE.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ReaderError, match="rag train --span --export-only"):
        SpanReader(damaged)
    with pytest.raises(ReaderError, match="no span model"):
        SpanReader(tmp_path / "missing.onnx")
