"""Slot matching on the bundled articles' own sentences: which figure answers what was asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.match import match, stated
from rag.answer.question import analyze
from rag.ingest.text import split_sentences

CORPUS = Path(__file__).parents[2] / "corpus"


def sentence_with(words: str) -> str:
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for start, end in split_sentences(text):
            if words in text[start:end]:
                return text[start:end]
    raise AssertionError(f"no bundled sentence holds {words!r}")


LIVE = sentence_with("56 percent surge")  # also the 84 percent viewership and 500 million
SESSIONS = sentence_with("45,000 sessions")
TOTAL = sentence_with("total online retail sales")
FARM = sentence_with("16 percent increase")
CHINA = sentence_with("15.5 trillion yuan")
FESTIVAL = sentence_with("two-month festival")


def best(question: str, sentence: str):
    return match(analyze(question), sentence, {})


@pytest.mark.parametrize(
    ("question", "sentence", "figure"),
    [
        # The sessions' growth is no growth of sales; the viewership's no growth of sales.
        ("How much did Xinjiang live-streaming sales grow?", LIVE, "56 percent"),
        ("How much did live-streaming viewership in Xinjiang increase?", LIVE, "84 percent"),
        ("How many people watched live streams in Xinjiang?", LIVE, "500 million"),
        # A count for "how many", not the growth rate beside it.
        ("How many live-streaming sessions were held in Xinjiang?", SESSIONS, "45,000"),
        # A growth rate in percent, not the percentage points it beat the average by.
        ("How fast did physical online retail sales in Xinjiang grow?", TOTAL, "15 percent"),
        # Size: the amount, not its share of the world; share: the share, not the amount.
        ("How big was China's online retail market in 2024?", CHINA, "15.5 trillion yuan"),
        ("What share of world online retail sales does China have?", CHINA, "33%"),
        # A currency asked for: the figure in it.
        ("How much were China's online retail sales in US dollars?", CHINA, "$2.1 trillion"),
        # Durations written in words.
        ("How long did the Chongqing 618 festival run?", FESTIVAL, "two-month"),
    ],
)
def test_the_figure_of_the_asked_measure_and_subject_is_chosen(question, sentence, figure):
    found = best(question, sentence)
    assert found.applies and found.figure is not None, found
    assert found.figure.value == figure
    assert sentence[found.figure.start : found.figure.end] == figure


def test_a_sentence_of_another_measure_states_nothing_asked() -> None:
    # No price, no amount of money, no duration in these sentences.
    assert best("What price do the oranges sell for?", FESTIVAL).missing
    assert best("What were Xinjiang's online retail sales in yuan?", FARM).missing
    assert best("How long did the sessions last?", SESSIONS).missing
    # Questions whose answer is no figure hold nothing against any sentence.
    assert not best("Who wrote the Xinjiang article?", FARM).applies


def test_a_part_matches_less_than_the_whole_when_the_whole_is_asked() -> None:
    question = "By how much did Xinjiang's total online retail sales rise?"
    whole, part = best(question, TOTAL), best(question, FARM)
    assert whole.figure.value == "15 percent" and part.figure.value == "16 percent"
    assert whole.score > 2 * part.score


def test_another_place_or_period_matches_less() -> None:
    context = frozenset({"xinjiang"})
    here = match(
        analyze("How many live-streaming sessions were held in Xinjiang?"), SESSIONS, {}, context
    )
    there = match(
        analyze("How many live-streaming sessions were held in Chongqing?"), SESSIONS, {}, context
    )
    assert there.score < 0.5 * here.score
    asked = analyze("How much did Xinjiang's online retail sales of farm products grow in 2019?")
    assert match(asked, FARM, {}, period="H1 2024").score < match(asked, FARM, {}, period="").score


def test_stated_figures_keep_their_offsets() -> None:
    for sentence in (LIVE, SESSIONS, CHINA, FESTIVAL):
        for figure in stated(sentence):
            assert sentence[figure.start : figure.end] == figure.value
    kinds = {f.value: f.kind for f in stated(LIVE)}
    assert kinds["56 percent"] == "percent" and kinds["500 million"] == "count"
    assert {f.value: f.kind for f in stated(FESTIVAL)}["two-month"] == "duration"
