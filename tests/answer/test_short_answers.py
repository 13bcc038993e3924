"""The short answer inside the cited sentence, on the bundled corpus, for every kind of question."""

from __future__ import annotations

import json

import pytest

from rag.eval.metrics import span_matches

from ..conftest import CORPUS

GOLD = [
    json.loads(line)
    for name in ("gold_qa.jsonl", "gold_new_user.jsonl")
    for line in (CORPUS / name).read_text().splitlines()
]


def test_every_span_of_every_gold_question_points_into_its_article(assistant) -> None:
    articles = {a.doc_id: a for a in assistant.articles}
    spans = 0
    for answer in assistant.ask_many([g["question"] for g in GOLD]):
        for item in answer.evidence:
            short = item.short_answer
            if short is None:
                continue
            spans += 1
            assert articles[item.doc_id].text[short.start : short.end] == short.text
            assert item.start <= short.start < short.end <= item.end
            assert item.text[slice(*item.answer_offsets())] == short.text
            assert short.source in ("reader", "slots", "figure rule") and 0.0 <= short.score <= 1.0
    assert spans >= 2 * len(GOLD)  # nearly every sentence gets one, not only figure questions


# Questions of our own, one per kind, each with what the short answer must say.
KINDS = [
    ("who", "Who signed cooperation agreements with Chongqing in late November?", "JD Group"),
    ("which", "Which game pushed up JD's sales of high-performance laptops?", "Black Myth: Wukong"),
    ("when", "On what date did JD sign the agreements with Chongqing?", "November 26"),
    ("where", "In which district of Chongqing is JD's Asia No. 1 park?", "Banan District"),
    ("how much", "How much did live-streaming sales grow in Xinjiang?", "56 percent"),
    ("how many", "How many brands joined the Chongqing 618 festival?", "700 brands"),
]


@pytest.mark.parametrize(("kind", "question", "expected"), KINDS, ids=[k[0] for k in KINDS])
def test_short_answer_for_each_kind_of_question(assistant, kind, question, expected) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained, kind
    assert answer.short_answer is not None
    assert span_matches(answer.short_answer.text, [expected]), (kind, answer.short_answer)
    assert answer.to_dict()["short_answer"]["text"] == answer.short_answer.text


def test_an_abstention_offers_no_short_answer(assistant) -> None:
    answer = assistant.ask("Who won the 2022 football World Cup?")
    assert answer.abstained
    assert answer.short_answer is None and answer.to_dict()["short_answer"] is None


def test_without_the_span_model_only_figures_are_marked(embedder) -> None:
    from rag import Assistant

    plain = Assistant.from_corpus(CORPUS, None, embedder=embedder, short_answers=False)
    assert plain.ask("How much did live-streaming sales grow in Xinjiang?").short_answer.text == (
        "56 percent"
    )
    assert plain.ask("Who signed cooperation agreements with Chongqing?").short_answer is None
