"""Settings and Mode: every tunable checked once, with errors that list the valid choices."""

from __future__ import annotations

import json

import pytest

from rag.errors import QuestionError, SettingsError
from rag.settings import MAX_QUESTION_CHARS, Mode, Settings, positive, validate_question


def test_mode_reads_like_its_name_everywhere() -> None:
    assert Mode.of("bm25") is Mode.BM25 and Mode.of(Mode.DENSE) is Mode.DENSE
    assert Mode.HYBRID == "hybrid" and f"{Mode.HYBRID}" == "hybrid" and str(Mode.BM25) == "bm25"
    assert {"hybrid": 1}[Mode.HYBRID] == 1 and json.dumps(Mode.DENSE) == '"dense"'
    assert Mode.HYBRID.sparse and Mode.HYBRID.dense and not Mode.BM25.dense


def test_a_bad_mode_names_the_choices() -> None:
    with pytest.raises(SettingsError, match="bm25, dense, hybrid; got 'sparse'"):
        Mode.of("sparse")
    with pytest.raises(SettingsError, match="mode must be one of"):
        Settings(mode="sparse")


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3", None])
def test_positive_integers_only(value) -> None:
    with pytest.raises(SettingsError, match="top_k must be a positive integer"):
        positive("top_k", value)


def test_settings_are_checked_once_at_creation() -> None:
    assert Settings().mode is Mode.HYBRID and Settings(mode="bm25").mode is Mode.BM25
    with pytest.raises(SettingsError, match="stride"):
        Settings(window=2, stride=3)
    with pytest.raises(SettingsError, match="threshold"):
        Settings(threshold=1.5)


def test_question_check_cleans_and_says_what_to_fix() -> None:
    assert validate_question(" How\x00 much\n did it grow? ") == "How much did it grow?"
    with pytest.raises(TypeError, match="must be a string"):
        validate_question(3)
    with pytest.raises(QuestionError, match="empty"):
        validate_question("\x00 \t")
    with pytest.raises(QuestionError, match=f"limit is {MAX_QUESTION_CHARS:,}"):
        validate_question("x" * (MAX_QUESTION_CHARS + 1))
