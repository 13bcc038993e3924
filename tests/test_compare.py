"""Comparison questions: the sides found, and the best sentence of each from the real corpus."""

from __future__ import annotations

import pytest

from rag.compare import Comparison, comparison


@pytest.mark.parametrize(
    ("question", "sides", "asked"),
    [
        (
            "Compare online sales growth in Xinjiang and Yichang",
            ("Xinjiang", "Yichang"),
            ("online sales growth in Xinjiang?", "online sales growth in Yichang?"),
        ),
        (
            "  Xinjiang vs. Yichang online retail sales growth?",
            ("Xinjiang", "Yichang"),
            ("Xinjiang online retail sales growth?", "Yichang online retail sales growth?"),
        ),
        (
            "A comparison of JD Group versus Alibaba",
            ("JD Group", "Alibaba"),
            ("JD Group?", "Alibaba?"),
        ),
    ],
)
def test_the_two_sides_of_a_comparison_are_found(question, sides, asked) -> None:
    assert comparison(question) == Comparison(sides, asked)


@pytest.mark.parametrize(
    "question",
    [
        "What did Xinjiang and Yichang sell?",  # names joined, but no comparison asked
        "How does JD compare with Alibaba?",  # no two names joined: asked as it is
        "Compare the sales growth",  # nothing named to compare
        "Compare Xinjiang and Xinjiang",
        42,
    ],
)
def test_other_questions_are_not_comparisons(question) -> None:
    assert comparison(question) is None


@pytest.mark.parametrize(
    "question",
    [
        "Compare online sales growth in Xinjiang and Yichang",
        "Xinjiang vs Yichang online retail sales growth",
    ],
)
def test_a_comparison_cites_the_best_sentence_of_each_side(assistant, question) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained and answer.answered_question == question
    first, second = answer.evidence[:2]
    assert first.mentions("Xinjiang") and second.mentions("Yichang")
    assert answer.text.startswith(f"[1] {first.text} [2] {second.text}")


def test_a_side_the_articles_never_mention_is_named_in_the_abstention(assistant) -> None:
    answer = assistant.ask("Compare Chongqing and Tibet online sales")
    assert answer.abstained and answer.missing == ("Tibet",)
    assert answer.confidence < assistant.threshold
    assert answer.evidence and all(e.mentions("Chongqing") for e in answer.evidence)


def test_comparisons_in_a_batch_answer_as_alone(assistant) -> None:
    batch = [
        "Compare online sales growth in Xinjiang and Yichang",
        "Who is JD?",
        "Tibet vs Chongqing",
    ]
    assert [a.to_dict() for a in assistant.ask_many(batch)] == [
        assistant.ask(q).to_dict() for q in batch
    ]
