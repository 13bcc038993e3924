"""Features: what the scorer reads about each candidate, on real sentences of the corpus."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer.features import FEATURES, Candidate, features
from rag.answer.question import analyze
from rag.ingest.text import tokenize

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


