"""End to end on the real corpus with the real model: answers, offsets, persistence, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag
from rag.assistant import Assistant
from rag.errors import QuestionError, SettingsError
from rag.settings import MAX_QUESTION_CHARS
from rag.types import Abstention

from .conftest import CORPUS, XINJIANG

GOLD = [json.loads(line) for line in (CORPUS / "gold_qa.jsonl").read_text().splitlines()]


def test_xinjiang_question_cites_56_percent_first(assistant) -> None:
    answer = assistant.ask("How much did Xinjiang live-streaming sales grow?")
    assert not answer.abstained
    top = answer.evidence[0]
    assert "56 percent" in top.text
    assert top.doc_id == XINJIANG
    assert top.published == "2024-07-19"
    assert top.title == "Online retail sales in Xinjiang maintains double-digit growth in H1"
    assert top.short_answer.text == "56 percent" == answer.short_answer.text
    article = next(a for a in assistant.articles if a.doc_id == XINJIANG)
    assert article.text[top.short_answer.start : top.short_answer.end] == "56 percent"
    assert answer.text.startswith("[1] During the first half of this year")
    assert 0.0 <= answer.confidence <= 1.0


def test_offsets_hold_for_every_evidence(assistant) -> None:
    by_id = {a.doc_id: a for a in assistant.articles}
    questions = [g["question"] for g in GOLD]
    for answer in assistant.ask_many(questions, top_k=5):
        # No passage is shown for a question none of whose words the articles use.
        gated = (Abstention.NOT_A_QUESTION, Abstention.UNSUPPORTED_LANGUAGE)
        shown = answer.abstention not in gated
        assert (1 if shown else 0) <= len(answer.evidence) <= (5 if shown else 0)
        scores = [e.score for e in answer.evidence]
        assert scores == sorted(scores, reverse=True)
        for item in answer.evidence:
            assert by_id[item.doc_id].text[item.start : item.end] == item.text


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_every_mode_finds_the_xinjiang_sentence(assistant, mode: str) -> None:
    answer = assistant.ask("How much did Xinjiang live-streaming sales grow?", mode=mode)
    assert answer.mode == mode
    assert any("56 percent" in e.text for e in answer.evidence)


def test_evidence_is_not_redundant(assistant) -> None:
    answer = assistant.ask("How much did Yichang's online sales grow?", top_k=5)
    texts = [e.text for e in answer.evidence]
    assert len(set(texts)) == len(texts)


def test_to_dict_is_json_ready(assistant) -> None:
    data = assistant.ask("How much did Xinjiang live-streaming sales grow?").to_dict()
    assert json.loads(json.dumps(data))["evidence"][0]["doc_id"] == XINJIANG
    assert set(data) >= {"text", "abstained", "confidence", "evidence", "question"}


def test_off_topic_question_abstains_with_closest_passages(assistant) -> None:
    answer = assistant.ask("Who won the 2022 FIFA World Cup final?")
    assert answer.abstained
    assert answer.text.startswith("The articles do not say")
    assert answer.evidence  # the closest passages are still listed


def test_save_then_load_gives_identical_answers(embedder, tmp_path: Path) -> None:
    built = Assistant.from_corpus(CORPUS, tmp_path, embedder=embedder)
    loaded = Assistant.from_corpus(CORPUS, tmp_path, embedder=embedder)
    assert built.build_report.rebuilt and not loaded.build_report.rebuilt
    questions = [g["question"] for g in GOLD[:20]]
    assert [a.to_dict() for a in built.ask_many(questions)] == [
        a.to_dict() for a in loaded.ask_many(questions)
    ]


def test_corpus_change_triggers_rebuild(embedder, corpus_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    Assistant.from_corpus(corpus_copy, index, embedder=embedder)
    (corpus_copy / "005_new.txt").write_text(
        "Tibet live-streaming sales grew 31 percent in the first half of 2024."
    )
    again = Assistant.from_corpus(corpus_copy, index, embedder=embedder)
    assert again.build_report.rebuilt
    assert again.build_report.reason == "corpus, model or settings changed"
    assert (
        again.ask("How much did Tibet live-streaming sales grow?").evidence[0].doc_id == "005_new"
    )


def test_settings_change_triggers_rebuild(embedder, tmp_path: Path) -> None:
    Assistant.from_corpus(CORPUS, tmp_path, embedder=embedder)
    assert Assistant.from_corpus(CORPUS, tmp_path, embedder=embedder, window=4).build_report.rebuilt


def test_corrupted_index_file_is_detected_and_rebuilt(embedder, tmp_path: Path) -> None:
    Assistant.from_corpus(CORPUS, tmp_path, embedder=embedder)
    victim = next(tmp_path.glob("gen-*/sentence_vectors.npy"))
    data = bytearray(victim.read_bytes())
    data[-10] ^= 0xFF
    victim.write_bytes(bytes(data))
    again = Assistant.from_corpus(CORPUS, tmp_path, embedder=embedder)
    assert again.build_report.rebuilt and "damaged index" in again.build_report.reason
    assert (
        "56 percent"
        in again.ask("How much did Xinjiang live-streaming sales grow?").evidence[0].text
    )


@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x00"])
def test_empty_question_is_a_value_error(assistant, question: str) -> None:
    with pytest.raises(QuestionError, match="empty"):
        assistant.ask(question)
    with pytest.raises(ValueError):
        assistant.ask(question)


@pytest.mark.parametrize("question", [None, 42, b"bytes", ["list"]])
def test_non_string_question_is_a_type_error(assistant, question) -> None:
    with pytest.raises(TypeError, match="string"):
        assistant.ask(question)


def test_megabyte_question_is_refused_quickly(assistant) -> None:
    with pytest.raises(QuestionError, match=f"limit is {MAX_QUESTION_CHARS:,}"):
        assistant.ask("sales " * 200_000)


@pytest.mark.parametrize(
    "question",
    [
        "新疆直播销售增长了多少？",
        "\u202eHow much did sales grow?\u200f",
        "🙂🙂🙂",
        "<script>alert(1)</script> sales?",
        "'; DROP TABLE articles; --",
        "How much\x07 did\x1b sales grow?",
        "?",
        "a" * MAX_QUESTION_CHARS,
    ],
)
def test_any_unicode_gives_a_valid_answer(assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert 0.0 <= answer.confidence <= 1.0
    assert isinstance(answer.text, str) and answer.text
    assert answer.question == question


def test_bad_settings_name_the_valid_choices(assistant) -> None:
    with pytest.raises(SettingsError, match="bm25, dense, hybrid"):
        assistant.ask("What?", mode="sparse")
    with pytest.raises(SettingsError, match="top_k"):
        assistant.ask("What?", top_k=0)
    with pytest.raises(TypeError, match="list of questions"):
        assistant.ask_many("one string")


def test_missing_corpus_names_the_path(embedder, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nowhere"):
        Assistant.from_corpus(tmp_path / "nowhere", None, embedder=embedder)


def test_module_level_ask_uses_bundled_corpus(assistant, monkeypatch) -> None:
    monkeypatch.setattr(rag, "_default", assistant)
    assert (
        "56 percent" in rag.ask("How much did Xinjiang live-streaming sales grow?").evidence[0].text
    )


def test_fake_embedder_pipeline_runs_without_the_model(fake_embedder, tmp_path: Path) -> None:
    fast = Assistant.from_corpus(CORPUS, None, embedder=fake_embedder)
    assert fast.build_report.articles == 5
    answer = fast.ask("How much did Xinjiang live-streaming sales grow?")
    assert any("56 percent" in e.text for e in answer.evidence)


# Regression floors on the bundled gold set, with the real model and the shipped scorer (the
# reader since issue 26): the levels reached (hit@1 0.889, hit@3 0.944, answered & correct
# 0.852, abstain recall 0.688), a little below so that a retrained model may move by one
# question. The targets (hit@1 0.95, 14 of 16 unanswerables abstained) are not met yet.
GOLD_FLOORS = {"hit@1": 0.87, "hit@3": 0.92, "answered_correct": 0.83, "abstain_recall": 0.62}


def test_gold_eval_stays_above_its_floors(assistant) -> None:
    report = rag.evaluate(assistant, CORPUS / "gold_qa.jsonl", mode="hybrid")
    reached = {name: report.summary[name] for name in GOLD_FLOORS}
    assert all(reached[name] >= floor for name, floor in GOLD_FLOORS.items()), reached
