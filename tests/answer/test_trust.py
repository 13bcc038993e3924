"""The showcase questions of issue 27, on the bundled corpus and a new user's three articles."""

from __future__ import annotations

import pytest

from rag.answer.figures import fits
from rag.assistant import Assistant
from rag.types import Abstention

from ..conftest import FIXTURES

NEW_USER = FIXTURES / "new_user"
HANGZHOU, SHENZHEN, CHENGDU = "hangzhou-hub", "shenzhen-drones", "chengdu-panda-goods"


@pytest.fixture(scope="module")
def new_user(embedder, tmp_path_factory) -> Assistant:
    return Assistant.from_corpus(NEW_USER, tmp_path_factory.mktemp("index"), embedder=embedder)


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("How much did sales at the Hangzhou hub grow?", "31 percent"),
        ("By what percentage did sales at the Hangzhou hub rise in the first half of 2024?",
         "31 percent"),
        ("How much were sales at the Hangzhou hub in the first half of 2024?", "1.2 billion yuan"),
        ("How much were the hub's exports in US dollars?", "480 million US dollars"),
        ("How much were exports through the Hangzhou hub in yuan?", "3.5 billion yuan"),
        ("How much did Chengdu's online sales of panda goods grow?", "18 percent"),
        ("How long did the Chengdu tea and panda fair last?", "five days"),
    ],
)  # fmt: skip
def test_a_growth_question_is_answered_with_the_rate(new_user, question, short) -> None:
    answer = new_user.ask(question)
    assert not answer.abstained and answer.short_answer.text == short


def test_a_rate_fits_a_growth_question_and_an_amount_does_not() -> None:
    assert fits("31 percent", "percentage", []) and fits("doubled", "percentage", [])
    assert not fits("1.2 billion yuan", "percentage", [])
    assert not fits("5.6 percentage points", "percentage", [])  # unless "points" is asked
    assert fits("5.6 percentage points", "percentage", ["point"])
    assert fits("$2.1 trillion", "money", ["dollar"])
    assert not fits("3.5 billion yuan", "money", ["dollar"])


@pytest.mark.parametrize(
    "question", ["asdf qwerty zxcv", "hello", "Thanks!", "Good morning", "...", "🚀🚀🚀"]
)
def test_nonsense_is_not_answered(assistant, question) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and answer.abstention is Abstention.NOT_A_QUESTION
    assert answer.evidence == [] and "Ask a question about what they report" in answer.lead()


@pytest.mark.parametrize(
    "question", ["中国的网上零售额增长了多少？", "Как выросли продажи в Синьцзяне?"]
)
def test_a_question_not_in_english_is_asked_for_in_english(assistant, question) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and answer.abstention is Abstention.UNSUPPORTED_LANGUAGE
    assert answer.evidence == [] and "ask the question in English" in answer.lead()


def test_why_after_a_growth_question_asks_why_it_grew(assistant) -> None:
    chat = assistant.conversation()
    chat.ask("How much did Xinjiang's online retail sales grow?")
    answer = chat.ask("why?")
    assert answer.answered_question == "Why did Xinjiang's online retail sales grow?"


def test_a_count_or_a_date_does_not_answer_how_much_something_grew(assistant, new_user) -> None:
    chat = assistant.conversation()
    chat.ask("How much did online sales grow in Xinjiang?")
    chat.ask("what about Yichang?")
    later = chat.ask("and in 2023?")  # Yichang's 2023 sentence counts shops and jobs
    assert later.abstained and later.abstention is Abstention.ASKED_MEASURE_MISSING
    assert later.unstated == "a growth rate of online sales for Yichang in 2023"
    festival = assistant.ask("How long did the festival last?")
    assert festival.evidence[0].short_answer.text == "two-month"
    assert new_user.ask("What is the population of Shenzhen?").abstained


@pytest.mark.parametrize(
    ("question", "doc_id", "value"),
    [
        ("Who wrote the Hangzhou article?", HANGZHOU, "Wang Lin"),
        ("Who published the Shenzhen article?", SHENZHEN, "Shenzhen Business Daily"),
        ("When was the Hangzhou article published?", HANGZHOU, "2024-09-12"),
        ("What is the publication date of the drone story?", SHENZHEN, "2024-03-02"),
    ],
)
def test_metadata_questions_are_answered_from_the_metadata(new_user, question, doc_id, value):
    answer = new_user.ask(question)
    assert not answer.abstained and answer.confidence == 1.0
    [item] = answer.evidence
    assert (item.doc_id, item.text, item.short_answer.text) == (doc_id, value, value)
    assert item.field and item.short_answer.source == "metadata"


def test_metadata_questions_abstain_when_the_metadata_lacks_it(new_user, assistant) -> None:
    answer = new_user.ask("Who wrote the Chengdu article?")
    assert answer.abstained and answer.abstention is Abstention.NOT_IN_METADATA
    assert "names no author" in answer.text
    unknown = new_user.ask("When was the Tibet article published?")
    assert unknown.abstained and unknown.evidence == []
    assert assistant.ask("Who wrote the Yichang article?").short_answer.text == "Chen Zai"


def test_a_title_question_is_answered_from_the_metadata(new_user) -> None:
    answer = new_user.ask("What is the title of the Hangzhou article?")
    assert answer.short_answer.text == "Hangzhou cross-border hub posts a record half-year"
    assert answer.evidence[0].field == "title"
