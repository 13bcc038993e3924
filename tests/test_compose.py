"""Composer: features, scoring, selection and answer spans on real sentences of the corpus."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from rag.compose import (
    FEATURES,
    MODE_FEATURES,
    MODES,
    SIDE_BY_SIDE_SHARE,
    Candidate,
    answer_span,
    differing_figures,
    features,
    load_scorer,
    score,
    select,
    with_other_articles,
)
from rag.question import analyze
from rag.text import tokenize
from rag.types import Evidence

LIVE = (
    "During the first half of this year, Xinjiang witnessed a remarkable 56 percent surge in "
    "online retail sales through live-streaming compared to the corresponding period last year, "
    "with an impressive cumulative viewership of 500 million individuals tuning into "
    "live-streaming - an astounding increase of 84 percent."
)
RURAL = (
    "In comparison to last year, rural online retail sales in Xinjiang witnessed a 20 percent "
    "increase during the first half of this year, surpassing the national average growth rate "
    "by 5.8 percentage points."
)
FESTIVAL = (
    "Throughout this two-month festival, which brought together over 700 brands and more "
    "than 3,000 products, Chongqing further established itself as a bustling e-commerce hub."
)


def candidate(sid: int, text: str, dense: float = 0.5, passage: float = 1.0) -> Candidate:
    tokens = tuple(tokenize(text))
    return Candidate(sid, text, tokens, frozenset(tokens), dense, dense, passage)


def test_feature_rows_reflect_overlap_and_type() -> None:
    analysis = analyze("How much did Xinjiang live-streaming sales grow?")
    matrix = features(analysis, [candidate(0, LIVE), candidate(1, FESTIVAL)], lambda t: 1.0)
    assert matrix.shape == (2, len(FEATURES))
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    assert column["coverage"][0] > column["coverage"][1]
    assert column["type_match"].tolist() == [1.0, 0.0]  # "56 percent" vs no percentage
    assert column["entity_coverage"].tolist() == [1.0, 0.0]
    assert column["coverage_gap"].max() == 0.0


def test_scorer_ranks_the_answer_sentence_first() -> None:
    analysis = analyze("How much did Xinjiang live-streaming sales grow?")
    cands = [candidate(0, FESTIVAL, 0.2), candidate(1, RURAL, 0.5), candidate(2, LIVE, 0.7)]
    probabilities = score(features(analysis, cands, lambda t: 1.0), "hybrid")
    assert np.all((0 <= probabilities) & (probabilities <= 1))
    assert select(cands, probabilities, 3)[0] == 2


def test_select_skips_near_duplicates_and_respects_top_k() -> None:
    cands = [candidate(0, LIVE), candidate(1, LIVE + " "), candidate(2, RURAL)]
    chosen = select(cands, np.array([0.9, 0.8, 0.1]), 3)
    assert chosen == [0, 2]
    assert select(cands, np.array([0.9, 0.8, 0.1]), 1) == [0]


def test_every_mode_has_trained_trees_for_its_features() -> None:
    scorer = load_scorer()
    assert 0.0 < scorer.threshold < 1.0
    for mode in MODES:
        assert scorer.features[mode] == MODE_FEATURES[mode]
        forest = scorer.forests[mode]
        assert forest.feature[~forest.leaf].max() < len(MODE_FEATURES[mode])


def test_an_old_or_foreign_scorer_file_says_to_retrain(tmp_path) -> None:
    path = tmp_path / "scorer.json"
    path.write_text(json.dumps({"threshold": 0.3, "modes": {"hybrid": {"bias": -1.0}}}))
    with pytest.raises(ValueError, match="retrain it with `rag train"):
        load_scorer.__wrapped__(path)


def test_the_sentence_after_a_restatement_of_the_question_gets_the_neighbour_features() -> None:
    # gold_qa: "How large is the JD MALL in Chongqing?" is answered by the sentence after the
    # one that names the mall.
    opened = (
        "In May, JD opened its largest and most advanced JD MALL in Chongqing Jiulongpo "
        "District, showcasing a unique retail model tailored to modern consumer needs."
    )
    size = (
        "Unlike traditional malls, this 60,000-square-meter commercial space features over 50 "
        "interactive experience zones, enhancing the city’s retail landscape."
    )
    first, second = frozenset(tokenize(opened)), frozenset(tokenize(size))
    cands = [
        Candidate(
            0,
            opened,
            tuple(tokenize(opened)),
            first | second,
            0.6,
            0.6,
            1.0,
            next_tokens=second,
            next_dense=0.3,
            lead=True,
        ),
        Candidate(
            1,
            size,
            tuple(tokenize(size)),
            first | second,
            0.3,
            0.6,
            1.0,
            previous_tokens=first,
            previous_dense=0.6,
        ),
    ]
    matrix = features(analyze("How large is the JD MALL in Chongqing?"), cands, lambda t: 1.0)
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    assert column["previous_coverage"].tolist()[1] == column["coverage"].tolist()[0] > 0
    assert column["with_previous"][1] > column["coverage"][1]
    assert column["previous_dense"].tolist() == [0.0, 0.6]
    assert column["next_dense"].tolist() == [0.3, 0.0]
    assert column["lead"].tolist() == [1.0, 0.0]
    assert column["asks_quantity"].tolist() == [1.0, 1.0]
    assert column["asks_other"].tolist() == [0.0, 0.0]


def test_a_sentence_of_the_named_period_covers_its_words() -> None:
    analysis = analyze(
        "How much did Xinjiang live-streaming sales grow in the first six months of 2024?"
    )
    this_year, last_year = (
        replace(candidate(0, LIVE), published=date) for date in ("2024-07-19", "2023-07-19")
    )
    matrix = features(analysis, [this_year, last_year], lambda t: 1.0)
    coverage = matrix[:, FEATURES.index("coverage")]
    # "six", "month" and "2024" count as found only in the 2024 article's sentence ("first" is
    # in both).
    assert coverage[0] - coverage[1] == pytest.approx(3 / len(analysis.terms))


def test_focus_features_find_the_figure_of_what_is_asked() -> None:
    analysis = analyze("How many products were showcased at the festival?")
    matrix = features(analysis, [candidate(0, FESTIVAL), candidate(1, LIVE)], lambda t: 1.0)
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    assert column["focus"].tolist() == [1.0, 0.0]  # "products"
    assert column["focus_figure"].tolist() == [1.0, 0.0]  # "3,000 products"
    no_focus = features(analyze("How much did sales grow?"), [candidate(0, LIVE)], lambda t: 1.0)
    assert no_focus[0, FEATURES.index("focus")] == 0.5


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
    span = answer_span(sentence, analyze(question))
    assert span is not None and sentence[span[0] : span[1]] == figure


def test_answer_span_none_for_non_figure_questions() -> None:
    assert answer_span(LIVE, analyze("Why is live-streaming popular?")) is None
    assert answer_span("No figures here.", analyze("How many brands?")) is None


def _figure(doc: str, sentence: str, figure: str, score: float, published: str) -> Evidence:
    start = sentence.index(figure) if figure else 0
    span = (start, start + len(figure)) if figure else None
    return Evidence(sentence, doc, doc.title(), "Daily", published, 0, len(sentence), score, span)


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


def test_real_corpus_shows_differing_figures_side_by_side(assistant) -> None:
    answer = assistant.ask("By how much did online retail sales increase?")
    assert not answer.abstained and len(answer.differing) >= 2
    shown = [answer.evidence[i] for i in answer.differing]
    assert len({item.doc_id for item in shown}) == len(shown)
    assert answer.lead().startswith("The articles give different figures:")
    for item in shown:
        start, end = item.answer_span
        assert item.text[start:end] in answer.lead() and item.published[:10] in answer.lead()
    assert answer.to_dict()["differing"] == list(answer.differing)
    # A question one article answers gets no side-by-side block.
    assert assistant.ask("How much did Xinjiang live-streaming sales grow?").differing == ()
