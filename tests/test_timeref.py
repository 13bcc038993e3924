"""Relative time resolved against publication dates, on sentences of the corpus."""

from __future__ import annotations

import pytest

from rag.features import FEATURES
from rag.timeref import find_period, period_label, resolve_period


@pytest.mark.parametrize(
    ("text", "published", "period"),
    [
        (
            "During the first half of this year, Xinjiang witnessed a remarkable 56 percent surge",
            "2024-07-19",
            "H1 2024",
        ),
        (
            "physical online retail sales in Xinjiang witnessed a 12 percent increase in the first "
            "half of the year compared to the corresponding period last year",
            "2024-07-19",
            "H1 2024",
        ),
        (
            "From January to May 2024, Yichang's 419 key trade enterprises achieved over 3.6 "
            "billion yuan",
            "2024-07-18T20:07:21",
            "2024-01/2024-05",
        ),
        (
            "Chongqing—On November 26, JD Group deepened its commitment to Chongqing",
            "2024-11-26",
            "2024-11-26",
        ),
        ("Earlier this year, Chongqing became the first city in China", "2024-11-26", "2024"),
        ("global retail e-commerce sales reached $6.3 trillion in 2024", "2025-09-15", "2024"),
        ("How much did Xinjiang's sales grow in the first six months of 2024?", "", "H1 2024"),
        ("sales in H1 2024", "", "H1 2024"),
        ("in the first five months of 2024", "", "2024-01/2024-05"),
        ("in the first 5 months of this year", "2024-07-18", "2024-01/2024-05"),
        ("From January to June 2024, sales rose", "", "H1 2024"),  # one name per period
        ("sales in Q3 2024", "", "Q3 2024"),
        ("In the third quarter of 2024, Guangzhou's online retail sales rose", "", "Q3 2024"),
        # The quarter is what the sentence speaks of, not the day it was said.
        ("the bureau said on October 10 that third quarter sales rose", "2024-10-12", "Q3 2024"),
        ("From July to September 2024, exports rose", "", "Q3 2024"),
        ("July–September 2024", "", "Q3 2024"),
        ("Q4 of 2023", "", "Q4 2023"),
        ("What were sales in Q3?", "", "Q3"),  # a question's quarter, of any year
        ("What happened last year?", "", ""),  # no date to resolve against
        ("The festival attracted major MCN organizations.", "2025-07-01", ""),
    ],
)
def test_resolve_period(text: str, published: str, period: str) -> None:
    assert resolve_period(text, published) == period


def test_find_period_names_the_words() -> None:
    assert find_period("grew in the first six months of 2024?", "") == (
        "H1 2024",
        "first six months of 2024",
    )
    assert find_period("The festival attracted major MCN organizations.", "2025-07-01") == ("", "")


def test_question_and_evidence_periods_meet(assistant) -> None:
    question = "How much did Xinjiang's online retail sales grow in the first six months of 2024?"
    answer = assistant.ask(question)
    assert answer.evidence[0].period == resolve_period(question, "") == "H1 2024"


def test_ranking_meets_the_period_a_question_names(assistant) -> None:
    """The same Xinjiang sentence ("the first half of this year", July 2024) covers more of a
    question naming H1 2024 than of one naming H1 2023."""

    def coverage(year: str) -> float:
        question = f"How much did Xinjiang's live-streaming sales grow in the first half of {year}?"
        (cands,) = assistant.candidate_sets([question], "hybrid")
        live = next(i for i, c in enumerate(cands.candidates) if "56 percent" in c.text)
        return cands.matrix[live, FEATURES.index("coverage")]

    assert coverage("2024") > coverage("2023")


GUANGZHOU = """Guangzhou online sales climb in third quarter

In the third quarter of 2024, Guangzhou's online retail sales rose 14 percent from a year
earlier, the city's statistics bureau said on October 10.

Cross-border e-commerce exports from the city's free trade zone reached 38 billion yuan over the
same three months.
"""


@pytest.fixture(scope="module")
def quarterly(embedder, tmp_path_factory):
    from rag.assistant import Assistant

    folder = tmp_path_factory.mktemp("user-corpus")
    (folder / "guangzhou.txt").write_text(GUANGZHOU)
    (folder / "metadata.jsonl").write_text(
        '{"doc_id": "guangzhou", "publisher": "Pearl River Business Weekly", '
        '"published": "2024-10-12"}\n'
    )
    return Assistant.from_corpus(folder, None, embedder=embedder)


def test_q3_is_the_third_quarter_a_sentence_speaks_of(quarterly) -> None:
    answer = quarterly.ask("How much did Guangzhou online retail sales grow in Q3?")
    assert not answer.abstained and answer.missing == ()
    assert answer.evidence[0].period == "Q3 2024" and "14 percent" in answer.evidence[0].text


def test_another_years_quarter_misses_only_the_year(quarterly) -> None:
    answer = quarterly.ask("How much did Guangzhou online retail sales grow in Q3 2023?")
    assert answer.abstained and answer.missing == ("2023",)
    # No passage under the abstention is rated above it.
    assert all(e.score <= answer.confidence for e in answer.evidence)


@pytest.mark.parametrize(
    ("period", "label"),
    [
        ("2024-01/2024-05", "January–May 2024"),
        ("2023-11/2024-02", "November 2023–February 2024"),
        ("2024-03/2024-03", "March 2024"),
        ("2024-11-26", "November 26, 2024"),
        ("2024-11", "November 2024"),
        ("H1 2024", "H1 2024"),  # as news writes it
        ("Q3 2024", "Q3 2024"),
        ("Q3", "Q3"),
        ("2024", "2024"),
        ("", ""),
        ("2024-13/2024-14", "2024-13/2024-14"),  # not a period it makes: kept as given
    ],
)
def test_period_label_reads_as_people_write_it(period: str, label: str) -> None:
    assert period_label(period) == label


def test_every_period_of_the_corpus_has_a_human_label(assistant) -> None:
    """No cited sentence's period reads like "2024-01/2024-05" on the page."""
    import re

    for article in assistant.articles:
        for sentence in article.text.split(". "):
            period = resolve_period(sentence, article.published)
            assert not re.search(r"\d{4}-\d{2}", period_label(period)), (period, sentence)
