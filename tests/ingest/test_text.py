"""Sentence splitting and tokenization on hand cases and on the real corpus."""

from __future__ import annotations

import pytest

from rag.ingest.corpus import load_corpus
from rag.ingest.text import split_sentences, tokenize

from ..conftest import CORPUS


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Sales rose 5.6 percentage points to 53.42 billion yuan in May.",
        "The JD Logistics Asia No. 1 Chongqing Smart Industrial Park opened in 2017.",
        "While Europe and the U.S. still dominate the high-end market, China leads.",
        "The report was written by J. K. Rowling and Mr. Li for the firm.",
        "He said “sales are up 12.9% this year” and left.",
        "Shawn Carter, a.k.a. Jay-Z, opened the festival.",
    ],
)
def test_no_false_breaks(text: str) -> None:
    assert sentences(text) == [text]


def test_breaks_at_real_ends_and_keeps_quotes() -> None:
    text = 'Orders grew. "Click link 1 to order now!” exclaimed one streamer. Exports rose 10.8%.'
    assert sentences(text) == [
        "Orders grew.",
        '"Click link 1 to order now!” exclaimed one streamer.',
        "Exports rose 10.8%.",
    ]


def test_chinese_punctuation_splits_without_spaces() -> None:
    assert sentences("新疆网络零售额增长15%。直播销售增长56%！为什么？") == [
        "新疆网络零售额增长15%。",
        "直播销售增长56%！",
        "为什么？",
    ]


def test_paragraph_breaks_always_split() -> None:
    assert sentences("A New Engine for Global Growth\n\nThe report stresses growth.") == [
        "A New Engine for Global Growth",
        "The report stresses growth.",
    ]


def test_hard_wrapped_lines_join_but_line_breaks_before_capitals_split() -> None:
    text = (
        "Sales reached 43.7 billion yuan last\nyear, up 25 percent.\nExports rose.\n"
        "Top sellers\nCosmetics"
    )
    assert sentences(text) == [
        "Sales reached 43.7 billion yuan last\nyear, up 25 percent.",
        "Exports rose.",
        "Top sellers",
        "Cosmetics",
    ]
    assert sentences("Headline in lower case\n\nbody text.") == [
        "Headline in lower case",
        "body text.",
    ]


def test_offsets_round_trip_on_real_corpus() -> None:
    for article in load_corpus(CORPUS).articles:
        spans = split_sentences(article.text)
        assert spans, article.doc_id
        for start, end in spans:
            piece = article.text[start:end]
            assert piece == piece.strip() and piece
        # Sentences never overlap and come in order.
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_xinjiang_sentence_is_whole() -> None:
    xinjiang = next(a for a in load_corpus(CORPUS).articles if a.doc_id.startswith("004"))
    found = [s for s in sentences(xinjiang.text) if "56 percent" in s]
    assert len(found) == 1
    assert found[0].startswith("During the first half of this year")
    assert found[0].endswith(
        "compared to the corresponding period last year, with an impressive "
        "cumulative viewership of 500 million individuals tuning into "
        "live-streaming - an astounding increase of 84 percent."
    )


def test_tokenize_numbers_keep_units() -> None:
    assert tokenize("12.9%") == ["12.9%", "12.9"]
    assert tokenize("12.9 percent") == ["12.9%", "12.9"]
    assert tokenize("$6.3 trillion")[:2] == ["$6.3", "6.3"]
    assert "53420" in tokenize("53,420 yuan")


@pytest.mark.parametrize("written", ["53.42bn", "53.42 bn", "53.42 bln", "53.42 billion"])
def test_tokenize_spells_out_magnitudes(written: str) -> None:
    assert tokenize(f"sales of {written} yuan") == tokenize("sales of 53.42 billion yuan")


def test_tokenize_hyphens_and_case() -> None:
    assert tokenize("Live-streaming") == ["livestream", "live", "stream"]
    assert tokenize("livestreaming") == ["livestream"]
    assert tokenize("Year-on-year")[0] == "yearonyear"
    assert tokenize("the U.S. and the") == ["us"]


def test_tokenize_stems_and_drops_stopwords() -> None:
    assert tokenize("How much did sales grow?") == ["sale", "grow"]
    assert tokenize("the", keep_stopwords=True) == ["the"]


def test_tokenize_cjk_unigrams() -> None:
    assert tokenize("新疆") == ["新", "疆"]


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🙂🙂", "\u202e\u200f"])
def test_degenerate_text(text: str) -> None:
    assert isinstance(tokenize(text), list)
    for start, end in split_sentences(text):
        assert text[start:end].strip()
