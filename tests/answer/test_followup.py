"""Follow-ups: the merge rule, and a Conversation over the real assistant."""

from __future__ import annotations

import pytest

from rag.answer.followup import Conversation, FollowUp, follow_up, resolve_followup
from rag.errors import QuestionError
from rag.settings import MAX_QUESTION_CHARS

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
        "JD logistics hub size",  # a new question in few words: the user's words are kept
        "Chongqing festival sales",
    ],
)
def test_standalone_questions_are_left_alone(question):
    assert resolve_followup(question, XINJIANG_QUESTION) == question


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("what about Yichang?", XINJIANG_QUESTION, "Yichang"),
        ("and in 2023?", "How much did sales grow in 2024?", "2023"),
        ("in rural areas", XINJIANG_QUESTION, None),
        ("and how many brands took part?", XINJIANG_QUESTION, None),
    ],
)
def test_a_swapped_name_or_year_is_what_the_evidence_must_mention(question, previous, expected):
    assert follow_up(question, previous).requires == expected


def test_ellipses_that_refer_back_are_follow_ups() -> None:
    assert resolve_followup("and its share?", XINJIANG_QUESTION).startswith("How much did")
    assert resolve_followup("for clothing", XINJIANG_QUESTION).endswith("for clothing?")


def test_a_short_message_after_a_long_question_is_answered_alone() -> None:
    long_question = "How much did Xinjiang sales grow " + "and why " * 245 + "?"
    assert len(long_question) <= MAX_QUESTION_CHARS
    assert follow_up("in rural areas?", long_question) == FollowUp("in rural areas?")


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


def _mentions(answer, term: str) -> bool:
    return all(term in e.text or term in e.title for e in answer.evidence)


def test_a_swapped_name_is_cited_or_the_answer_abstains_naming_it(assistant) -> None:
    conversation = assistant.conversation()
    assert "56 percent" in conversation.ask(XINJIANG_QUESTION).evidence[0].text
    follow = conversation.ask("what about Yichang?")
    assert follow.answered_question == "How much did Yichang live-streaming sales grow?"
    # Never Xinjiang's 56 percent under a Yichang question (what it answered before).
    assert not any("56 percent" in e.text for e in follow.evidence)
    assert follow.abstained or _mentions(follow, "Yichang")
    assert follow.evidence and _mentions(follow, "Yichang")  # the closest Yichang passages
    assert "none of the passages found mentions" not in follow.text  # they do mention Yichang


def test_a_swapped_place_is_cited_when_the_articles_have_it(assistant) -> None:
    conversation = assistant.conversation()
    conversation.ask("How much did online sales grow in Chongqing?")
    follow = conversation.ask("what about Xinjiang?")
    assert not follow.abstained and _mentions(follow, "Xinjiang")


def test_a_swapped_year_the_articles_never_give_abstains_naming_it(assistant) -> None:
    conversation = assistant.conversation()
    conversation.ask("How much did Xinjiang live-streaming sales grow in the first half of 2024?")
    follow = conversation.ask("and in 2023?")
    assert follow.abstained and follow.missing == ("2023",)


def test_a_new_short_question_is_answered_in_the_users_words(assistant) -> None:
    conversation = assistant.conversation()
    conversation.ask(XINJIANG_QUESTION)
    answer = conversation.ask("JD logistics hub size")
    assert answer.answered_question == "JD logistics hub size"
    assert "JD" in answer.evidence[0].text
