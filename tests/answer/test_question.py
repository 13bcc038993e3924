"""Question analysis: answer types, entities, figures."""

from __future__ import annotations

import pytest

from rag.answer.question import analyze


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much did Xinjiang live-streaming sales grow?", "percentage"),
        ("What share of China's total trade did cross-border e-commerce make up?", "percentage"),
        ("How much were Chongqing 618 network retail sales worth?", "money"),
        ("How many brands took part in the festival?", "quantity"),
        ("When did JD sign the cooperation agreements?", "date"),
        ("In what year was the smart industrial park established?", "date"),
        ("Where did JD open its largest JD MALL?", "place"),
        ("Which company launched an integrated e-commerce model?", "agent"),
        ("Who reported the Xinjiang figures?", "agent"),
        ("Which products do farmers in Zigui sell by livestream?", "list"),
        ("Why has Chongqing become an e-commerce hub?", "reason"),
        ("Describe the festival.", "other"),
    ],
)
def test_answer_types(question: str, expected: str) -> None:
    assert analyze(question).answer_type == expected


def test_entities_years_numbers() -> None:
    analysis = analyze("How much did Tibet live-streaming sales grow in 2019 after 618?")
    assert analysis.entities == ("Tibet",)
    assert analysis.years == ("2019",)
    assert analysis.numbers == ("618",)
    assert "tibet" in analysis.entity_tokens


def test_explicit_period_and_its_words() -> None:
    analysis = analyze("How much did sales grow in the first six months of 2024?")
    assert analysis.period == "H1 2024"
    assert analysis.period_terms == ("first", "six", "month", "2024")
    # A question has no publication date, so "this year" stays unresolved.
    assert analyze("How much did sales grow this year?").period == ""


def test_multiword_entities() -> None:
    assert "Zigui County" in analyze("What does Zigui County sell?").entities



@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("How many products were showcased at the 2025 Chongqing 618 festival?", ("product",)),
        ("How many partnership deals were tentatively agreed?", ("partnership", "deal")),
        ("Which product categories drove online retail growth?", ("product", "categori")),
        ("What is the population of Yichang?", ("popul",)),
        ("How much did Xinjiang live-streaming sales grow?", ()),  # "did" names nothing
        ("When did Temur rule?", ()),
    ],
)
def test_focus_names_what_is_asked_for(question: str, focus: tuple[str, ...]) -> None:
    assert analyze(question).focus == focus
