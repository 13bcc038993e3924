"""A short answer of the wrong kind: a year for a count, the question's own words, a percentage."""

from __future__ import annotations

import pytest

from rag.answer.fit import misfit
from rag.answer.question import analyze
from rag.types import Abstention, Evidence, ShortAnswer


def evidence(sentence: str, short: str) -> Evidence:
    start = sentence.index(short)
    answer = ShortAnswer(short, start, start + len(short), 0.9, "reader")
    return Evidence(sentence, "d", "T", "P", "2024-07-19", 0, len(sentence), 0.9, answer)


@pytest.mark.parametrize(
    ("question", "sentence", "short", "why"),
    [
        ("Who founded JD?", "JD is advancing supply chains.", "JD", "repeats the question"),
        (
            "How many visitors came to the 618 festival?",
            "The 2025 Chongqing 618 festival set a record.",
            "2025",
            "no number but a year",
        ),
        (
            "How many visitors came in 2024?",
            "Visitors have come to the fair since 2019.",
            "since 2019",
            "no number but a year or the question's own",
        ),
        (
            "How many visitors came to the 618 festival?",
            "The 2025 Chongqing 618 festival set a record.",
            "618",
            "repeats the question",
        ),
        (
            "What was the population of Xinjiang?",
            "Sales in Xinjiang rose 12 percent.",
            "12",
            "a percentage, not a count",
        ),
    ],
)
def test_an_answer_of_the_wrong_kind_is_named_with_the_reason(question, sentence, short, why):
    assert why in misfit(analyze(question), evidence(sentence, short))


@pytest.mark.parametrize(
    ("question", "sentence", "short"),
    [
        ("How many brands took part?", "It brought together over 700 brands.", "700"),
        ("How many sessions were held?", "Some forty-five sessions were held.", "forty"),
        ("How much did sales grow?", "Sales grew 56 percent.", "56 percent"),
        ("When was JD founded?", "JD was founded in 1998.", "1998"),
        ("Was it JD or Alibaba that opened the mall?", "JD opened the mall.", "JD"),
        ("Who opened the mall?", "JD opened the mall.", "JD"),
    ],
)
def test_an_answer_of_the_asked_kind_passes(question, sentence, short):
    assert misfit(analyze(question), evidence(sentence, short)) == ""


@pytest.mark.parametrize(
    "question",
    [
        # Problem 2 of the trust issue: answered at 0.93 and at medium confidence before.
        "How many visitors came to the 618 festival?",
        "How many visitors did the Chongqing 618 festival have?",
        "Who founded JD?",
    ],
)
def test_questions_the_articles_cannot_answer_abstain_saying_why(assistant, question) -> None:
    answer = assistant.ask(question)
    # The reader (issue 26) already rates these below the threshold, before the kind is checked.
    assert answer.abstained, answer.confidence
    assert answer.abstention in (Abstention.WRONG_KIND, Abstention.LOW_CONFIDENCE)
    assert answer.short_answer is None and answer.text.startswith("The articles do not say")
    # Nothing under the abstention is rated above it.
    assert all(item.score <= answer.confidence for item in answer.evidence)


def test_the_same_kinds_of_question_are_still_answered_where_the_articles_say(assistant) -> None:
    brands = assistant.ask("How many brands took part in the Chongqing 618 E-commerce Festival?")
    assert not brands.abstained and brands.short_answer.text.startswith("700")
    viewers = assistant.ask("How many people watched live streams in Xinjiang in H1 2024?")
    assert not viewers.abstained and "500 million" in viewers.evidence[0].text
