"""Follow-ups: the merge rule, and a Conversation over the real assistant."""

from __future__ import annotations

import pytest

from rag.errors import QuestionError
from rag.followup import Conversation, resolve_followup

XINJIANG_QUESTION = "How much did Xinjiang live-streaming sales grow?"


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        (
            "and in rural areas?",
            XINJIANG_QUESTION,
            "How much did Xinjiang live-streaming sales grow in rural areas?",
        ),
        (
            "what about Yichang?",
            XINJIANG_QUESTION,
            "How much did Yichang live-streaming sales grow?",
        ),
        ("How about Yichang", XINJIANG_QUESTION, "How much did Yichang live-streaming sales grow?"),
        ("Yichang?", XINJIANG_QUESTION, "How much did Yichang live-streaming sales grow?"),
        (
            "in rural areas",
            XINJIANG_QUESTION,
            "How much did Xinjiang live-streaming sales grow in rural areas?",
        ),
        (
            "what about Yichang?",
            "How much did Xinjiang's online sales grow?",
            "How much did Yichang's online sales grow?",
        ),
        (
            "and in 2023?",
            "How much did Xinjiang's online retail sales grow in 2019?",
            "How much did Xinjiang's online retail sales grow in 2023?",
        ),
        ("and how many brands took part?", XINJIANG_QUESTION, "How many brands took part?"),
        (
            "what about clothing?",
            XINJIANG_QUESTION,
            "How much did Xinjiang live-streaming sales grow for clothing?",
        ),
        (
            "and in Yichang?",
            "What were sales at the 2025 Chongqing 618 Festival?",
            "What were sales at the 2025 Yichang 618 Festival?",
        ),
    ],
)
def test_followups_merge_with_the_previous_question(question, previous, expected):
    assert resolve_followup(question, previous) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2022 World Cup?",  # has a question word
        "Is it growing?",  # starts with an auxiliary verb
        "Tell me about the Chongqing festival sales",  # long, no connective
        "What is the capital of Australia?",
    ],
)
def test_standalone_questions_are_left_alone(question):
    assert resolve_followup(question, XINJIANG_QUESTION) == question


def test_without_a_previous_question_nothing_is_merged():
    assert resolve_followup("what about  Yichang?", None) == "what about Yichang?"
    assert resolve_followup("and?", XINJIANG_QUESTION) == "and?"


def test_a_conversation_merges_follow_ups_and_forgets_on_clear(assistant) -> None:
    conversation = assistant.conversation()
    first = conversation.ask(XINJIANG_QUESTION)
    assert first.answered_question == XINJIANG_QUESTION
    follow = conversation.ask("what about Yichang?")
    assert follow.answered_question == "How much did Yichang live-streaming sales grow?"
    conversation.clear()
    assert conversation.ask("Yichang?").answered_question == "Yichang?"


def test_a_bad_follow_up_raises_and_keeps_the_previous_question(assistant) -> None:
    conversation = Conversation(assistant)
    conversation.ask(XINJIANG_QUESTION)
    with pytest.raises(QuestionError, match="empty"):
        conversation.ask("   ")
    assert conversation.previous == XINJIANG_QUESTION
