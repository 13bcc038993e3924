"""Figures: the answer figure marked inside a sentence, and what kind of thing a sentence holds."""

from __future__ import annotations

import pytest

from rag.answer.figures import answer_span, figure_subject, has_answer_type, subject_head
from rag.answer.question import analyze
from tests.answer.test_features import FESTIVAL, LIVE, RURAL


def span(sentence: str, question: str):
    analysis = analyze(question)
    return answer_span(
        sentence, analysis.answer_type, analysis.numbers + analysis.years, analysis.terms
    )


@pytest.mark.parametrize(
    ("question", "sentence", "figure"),
    [
        ("How much did Xinjiang live-streaming sales grow?", LIVE, "56 percent"),
        ("How much did rural online retail sales in Xinjiang grow?", RURAL, "20 percent"),
        ("How many brands took part in the festival?", FESTIVAL, "700 brands"),
        (
            "How much were the 2025 Chongqing 618 sales worth?",
            "The 2025 Chongqing 618 E-commerce Festival saw record-breaking network retail sales "
            "of 53.42 billion yuan (about 7.53 billion USD).",
            "53.42 billion yuan",
        ),
    ],
)
def test_answer_span_picks_the_figure_nearest_the_question(question, sentence, figure) -> None:
    found = span(sentence, question)
    assert found is not None and sentence[found[0] : found[1]] == figure


def test_answer_span_none_for_non_figure_questions() -> None:
    assert span(LIVE, "Why is live-streaming popular?") is None
    assert span("No figures here.", "How many brands?") is None


def test_sentence_holds_the_answer_type() -> None:
    assert has_answer_type("sales rose 56 percent", "percentage")
    assert not has_answer_type("sales rose sharply", "percentage")
    assert has_answer_type("reached 53.42 billion yuan", "money")
    assert has_answer_type("reached 53.42bn euros", "money")
    assert has_answer_type("On November 26, JD signed", "date")
    assert has_answer_type("anything", "other")


def test_money_in_euros_and_short_magnitudes_is_marked() -> None:
    sentence = "Exports reached 4.2 bn euros last year."
    assert span(sentence, "How much were exports worth?") == (16, 28)


@pytest.mark.parametrize(
    ("sentence", "figure", "subject"),
    [
        # The bundled corpus's own sentences: what each growth figure is a growth of.
        (
            "With a YoY increase of 15 percent in total online retail sales, indicating demand.",
            "15 percent",
            "total online retail sales",
        ),
        (
            "In the first half of this year, service-oriented online retail sales in Xinjiang "
            "increased by 22 percent compared to the same period last year.",
            "22 percent",
            "service-oriented online retail sales",
        ),
        (
            "Xinjiang witnessed a 16 percent increase in online retail sales of agricultural "
            "products compared to last year.",
            "16 percent",
            "online retail sales of agricultural products",
        ),
        ("Online sales grew by 20% year-on-year during this period.", "20%", "online sales"),
        (
            "The festival achieved online retail sales of 53.42 billion yuan (7.53 billion USD), "
            "representing a 12.9% year-on-year growth.",
            "12.9%",
            "online retail sales",
        ),
        ("That was up 12.9% on the year.", "12.9%", ""),
    ],
)
def test_a_figure_knows_what_it_is_a_figure_of(sentence: str, figure: str, subject: str) -> None:
    start = sentence.index(figure)
    found = figure_subject(sentence, start, start + len(figure))
    assert found == subject
    assert subject_head(found) == ("sale" if subject else "")
