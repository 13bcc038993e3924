"""Composer: selection, figures from other articles side by side, and the answer it builds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rag.answer.compose import (
    SIDE_BY_SIDE_SHARE,
    differing_figures,
    of_asked_measure,
    select,
    side_by_side,
    with_other_articles,
)
from rag.answer.figures import asked_measure
from rag.answer.headline import headlines, unqualified_growth
from rag.answer.question import analyze
from rag.types import Evidence, ShortAnswer
from tests.answer.test_features import LIVE, RURAL, candidate

XINJIANG = "004_62637a1ca6fb8c94"
YICHANG_ID = "001_3888668b42d211bb"


def test_select_skips_near_duplicates_and_respects_top_k() -> None:
    cands = [candidate(0, LIVE), candidate(1, LIVE + " "), candidate(2, RURAL)]
    chosen = select(cands, np.array([0.9, 0.8, 0.1]), 3)
    assert chosen == [0, 2]
    assert select(cands, np.array([0.9, 0.8, 0.1]), 1) == [0]


def _figure(doc: str, sentence: str, figure: str, score: float, published: str) -> Evidence:
    start = sentence.index(figure) if figure else 0
    short = ShortAnswer(figure, start, start + len(figure), 1.0, "figure rule") if figure else None
    return Evidence(sentence, doc, doc.title(), "Daily", published, 0, len(sentence), score, short)


XJ = _figure("xinjiang", "Online sales grew 15 percent in H1.", "15 percent", 0.8, "2024-07-19")
XJ_RURAL = _figure(
    "xinjiang", "Rural online sales grew 20 percent.", "20 percent", 0.7, "2024-07-19"
)
XJ_FARM = _figure(
    "xinjiang", "Farm produce sales grew 16 percent.", "16 percent", 0.5, "2024-07-19"
)
YICHANG = _figure("yichang", "Yichang's online sales grew 20%.", "20%", 0.35, "2024-07-18")
CHONGQING = _figure("chongqing", "Chongqing online sales rose 12.9%.", "12.9%", 0.42, "2025-06-20")


def test_other_articles_figures_replace_a_repeated_articles_weakest_sentence() -> None:
    evidence = with_other_articles([XJ, XJ_RURAL, XJ_FARM], [CHONGQING])
    assert evidence == [XJ, XJ_RURAL, CHONGQING]
    assert differing_figures(evidence) == (0, 2)


def test_an_agreeing_or_figureless_rival_changes_nothing() -> None:
    same_value = _figure("yichang", "Yichang sales grew 15%.", "15%", 0.6, "2024-07-18")
    no_figure = _figure("yichang", "Yichang sales grew fast.", "", 0.6, "2024-07-18")
    assert with_other_articles([XJ, XJ_RURAL, XJ_FARM], [same_value, no_figure]) == [
        XJ,
        XJ_RURAL,
        XJ_FARM,
    ]
    assert differing_figures([XJ, XJ_RURAL, XJ_FARM]) == ()  # one article: no disagreement


def test_every_cited_article_stays_cited_and_a_weak_rival_is_not_shown_beside() -> None:
    evidence = with_other_articles([XJ, YICHANG], [CHONGQING])
    assert evidence == [XJ, YICHANG]  # no sentence of a twice-cited article to give up
    # Yichang's sentence rates 0.35 / 0.8 of the first, under SIDE_BY_SIDE_SHARE: not a rival.
    assert YICHANG.score < SIDE_BY_SIDE_SHARE * XJ.score
    assert differing_figures(evidence) == ()
    close = _figure("yichang", "Yichang's online sales grew 20%.", "20%", 0.7, "2024-07-18")
    assert differing_figures([XJ, close]) == (0, 1)


def test_only_figures_of_one_measure_are_set_side_by_side() -> None:
    share = _figure(
        "yichang", "Online sales accounted for 12.5% of total sales.", "12.5%", 0.75, "2024-07-18"
    )
    assert with_other_articles([XJ, XJ_RURAL, XJ_FARM], [share]) == [XJ, XJ_RURAL, XJ_FARM]
    assert differing_figures([XJ, share]) == ()  # a share is no rival to a growth rate
    close = _figure("yichang", "Yichang's online sales grew 20%.", "20%", 0.7, "2024-07-18")
    lead = side_by_side([XJ, close], differing_figures([XJ, close]))
    assert lead == (
        "The articles give different figures: 15 percent (growth of online sales; Xinjiang — "
        "Daily, 2024-07-19); 20% (growth of Yichang's online sales; Yichang — Daily, 2024-07-18)."
    )


def test_only_figures_of_the_same_kind_of_thing_are_set_side_by_side() -> None:
    exports = _figure(
        "customs", "Exports grew 9 percent in the first half.", "9 percent", 0.7, "2024-07-20"
    )
    assert differing_figures([XJ, exports]) == ()  # growth of sales, growth of exports
    assert with_other_articles([XJ, XJ_RURAL, XJ_FARM], [exports]) == [XJ, XJ_RURAL, XJ_FARM]
    unnamed = _figure("chongqing", "That was up 12.9% on the year.", "12.9%", 0.7, "2025-06-20")
    assert differing_figures([XJ, unnamed]) == (0, 1)  # nothing says it is of something else


@pytest.mark.parametrize(
    "question",
    ["How much did online retail sales increase?", "By how much did online retail sales increase?"],
)
def test_an_unqualified_growth_question_lists_each_articles_headline_figure(
    assistant, question
) -> None:
    # Issue 19's first problem, the README's own example: Xinjiang's 22 percent growth of
    # service-oriented sales was set against Yichang's 12.5%, a share, while the articles'
    # headline growth figures (Xinjiang 15 percent in total, Yichang 20%) were not shown.
    answer = assistant.ask(question)
    assert not answer.abstained
    figures = {e.doc_id: e.short_answer.text for e in answer.evidence}
    assert figures[XINJIANG] == "15 percent" and figures[YICHANG_ID] == "20%"
    assert "total online retail sales" in answer.evidence[0].text
    assert answer.differing == tuple(range(len(answer.evidence)))
    lead = answer.lead()
    assert "15 percent (growth of total online retail sales, H1 2024;" in lead
    assert "20% (growth of online sales;" in lead and "12.5%" not in lead
    # A question one article answers gets no side-by-side block.
    assert assistant.ask("How much did Xinjiang live-streaming sales grow?").differing == ()


def test_a_headline_is_the_broadest_growth_figure_of_what_was_asked() -> None:
    rural = _figure(
        "xinjiang", "Rural online retail sales grew 20 percent.", "20 percent", 0.9, "2024-07-19"
    )
    total = _figure(
        "xinjiang",
        "Total online retail sales rose 15 percent in the first half.",
        "15 percent",
        0.6,
        "2024-07-19",
    )
    televisions = _figure(
        "jd", "Sales of 85-inch televisions surged 332%.", "332%", 0.8, "2024-11-26"
    )
    yichang = _figure("yichang", "Online sales grew by 20% in May.", "20%", 0.1, "2024-07-18")
    share = _figure(
        "yichang", "Online sales accounted for 12.5% of total sales.", "12.5%", 0.7, "2024-07-18"
    )
    pool = [rural, televisions, share, total, yichang]
    # Xinjiang's total (not its rural figure), Yichang's growth (not its share); the sales of
    # televisions are not "online retail sales".
    assert headlines("How much did online retail sales grow?", pool) == [3, 4]
    assert unqualified_growth(analyze("How much did online retail sales grow?"))
    assert not unqualified_growth(analyze("How much did Xinjiang's online sales grow in 2024?"))
    assert not unqualified_growth(analyze("How many brands took part?"))


def test_the_measure_a_question_asks_for() -> None:
    assert asked_measure("How much did Yichang's online sales grow?") == "growth"
    assert asked_measure("What share of sales was made online?") == "share"
    assert asked_measure("What percentage of the vote was in favour?") == ""
    assert asked_measure("How many brands took part?") == ""


def test_the_sentence_after_gives_the_asked_figure_when_the_first_names_only_its_subject(
    assistant,
) -> None:
    follows = _figure("yichang", "Online sales grew by 20% in May.", "20%", 0.1, "2024-07-18")
    share = _figure(
        "yichang", "Yichang's online sales were 12.5% of total sales.", "12.5%", 0.9, "2024-07-18"
    )
    # Rated as the pair it completes, so the evidence stays in order of rating.
    assert of_asked_measure([share], "growth", follows) == [replace(follows, score=0.9), share]
    assert of_asked_measure([share], "share", follows) == [share]
    assert of_asked_measure([share], "growth", None) == [share]
    assert of_asked_measure([follows], "growth", share) == [follows]  # already of the measure
    # On the bundled corpus: the growth is in the sentence after the one that names Yichang.
    for question in (
        "How much did Yichang's online sales grow?",
        "How much did Yichang's online sales grow in the first five months of 2024?",
    ):
        answer = assistant.ask(question)
        assert not answer.abstained and answer.short_answer.text.startswith("20%")
        assert "12.5%" in answer.evidence[1].text  # the sentence naming what grew, cited next
