"""Loading, decoding, cleaning and metadata on the real corpus and on broken inputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag.errors import CorpusError
from rag.ingest.clean import clean, normalize_date
from rag.ingest.corpus import decode, load_corpus

from ..conftest import CORPUS, XINJIANG

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed_articles"


def test_real_corpus_loads_five_articles_with_metadata() -> None:
    corpus = load_corpus(CORPUS)
    assert [a.doc_id for a in corpus.articles] == sorted(p.stem for p in CORPUS.glob("*.txt"))
    xinjiang = next(a for a in corpus.articles if a.doc_id == XINJIANG)
    assert xinjiang.title == "Online retail sales in Xinjiang maintains double-digit growth in H1"
    assert xinjiang.published == "2024-07-19"
    assert all(a.title and a.publisher for a in corpus.articles)
    # gold_qa.jsonl lives in corpus/ but is a question file: reported, never indexed.
    assert any("question/answer file" in str(p) for p in corpus.problems)
    # So is gold_figures.jsonl, the figures labelled by hand (`rag eval --figures`).
    assert any("gold figures file" in str(p) for p in corpus.problems)


@pytest.mark.skipif(not SEED.is_dir(), reason="shared seed articles not beside the repo")
def test_corpus_files_are_the_seed_articles_byte_for_byte() -> None:
    for seed in SEED.glob("*.txt"):
        assert (CORPUS / seed.name).read_bytes() == seed.read_bytes()


def test_cleaning_removes_boilerplate_and_reports_it() -> None:
    corpus = load_corpus(CORPUS)
    removed = {r.doc_id: [x.kind for x in r.removed] for r in corpus.reports}
    text = {a.doc_id: a.text for a in corpus.articles}
    assert "navigation" in removed[XINJIANG] and "TIANSHANNET" not in text[XINJIANG]
    assert "reprint notice" in removed[XINJIANG] and "written permission" not in text[XINJIANG]
    jd = "002_294b00b72ae424b7"
    assert {"cookie notice", "contact"} <= set(removed[jd])
    assert "cookies" not in text[jd] and "@" not in text[jd]


def test_repeated_article_text_is_indexed_once() -> None:
    corpus = load_corpus(CORPUS)
    yichang = next(a for a in corpus.articles if a.doc_id == "001_3888668b42d211bb")
    assert yichang.text.count("419 key trade enterprises") == 1
    report = next(r for r in corpus.reports if r.doc_id == yichang.doc_id)
    assert sum(x.kind == "repeated paragraph" for x in report.removed) == 6


def test_header_becomes_metadata_without_sidecar(corpus_copy: Path) -> None:
    (corpus_copy / "metadata.jsonl").unlink()
    articles = {a.doc_id: a for a in load_corpus(corpus_copy).articles}
    yichang = articles["001_3888668b42d211bb"]
    assert yichang.title == "Livestreaming fuels new growth in Yichang’s e-commerce sector"
    assert yichang.published == "2024-07-18T20:07:21"
    assert yichang.author == "Chen Zai"
    assert yichang.publisher == "Yichang Three Gorges International Communication Studio"
    assert not yichang.text.startswith("Livestreaming fuels")
    report = articles["003_08338eaef627da13"]
    assert report.publisher == "CFIS" and report.published == "2025-09-15T15:01:14"
    # An article that opens with its lead sentence gets no invented headline.
    assert articles["000_5c16a399062f8e0b"].title == ""


def test_decode_falls_back_to_gb18030_and_latin1() -> None:
    assert decode("新疆网络零售额增长".encode("gb18030")) == ("新疆网络零售额增长", "gb18030")
    assert decode("Café crème".encode("latin-1"))[0] == "Café crème"
    with pytest.raises(ValueError, match="binary"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00")


def test_utf16_and_utf32_with_a_byte_order_mark_are_text(tmp_path: Path) -> None:
    text = "Xinjiang's online sales grew 15 percent — 新疆网络零售额增长."
    for codec in ("utf-16", "utf-16-be", "utf-32"):
        raw = text.encode(codec)
        raw = raw if codec != "utf-16-be" else b"\xfe\xff" + raw  # plain -be has no mark
        assert decode(raw)[0] == text
    for junk in (b"\xff\xfe\x00\xd8", b"\xff\xfe\xfd" + bytes(range(1, 9)) * 200):
        with pytest.raises(ValueError, match="not text in UTF-16-LE, though it opens with its"):
            decode(junk)  # a lone surrogate; binary that opens with the mark
    (tmp_path / "windows.txt").write_bytes(("Title\n\n" + text).encode("utf-16"))
    loaded = load_corpus(tmp_path)
    assert [a.doc_id for a in loaded.articles] == ["windows"] and not loaded.problems
    assert loaded.reports[0].encoding == "utf-16-le"


def test_bad_files_are_reported_and_the_rest_builds(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Sales grew 10 percent in May. Exports rose too.")
    (tmp_path / "chinese.txt").write_bytes("新疆网络零售额增长百分之十五。".encode("gb18030"))
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "more.jsonl").write_text(
        json.dumps({"id": "j1", "title": "T", "text": "Imports fell 3 percent."})
        + "\n{broken\n"
        + json.dumps({"id": "j2"})
        + "\n"
    )
    (tmp_path / "z_copy.txt").write_text("Sales grew 10 percent in May. Exports rose too.")
    os.symlink("/etc/passwd", tmp_path / "passwd.txt")
    corpus = load_corpus(tmp_path)
    assert {a.doc_id for a in corpus.articles} == {"good", "chinese", "j1"}
    problems = {str(p) for p in corpus.problems}
    assert any(p.startswith("image.txt: looks binary") for p in problems)
    assert any(p.startswith("empty.md:") for p in problems)
    assert any(p.startswith("more.jsonl:2: not valid JSON") for p in problems)
    assert any(p.startswith("more.jsonl:3:") and '"text"' in p for p in problems)
    assert any(p.startswith("z_copy.txt: same text as 'good'") for p in problems)
    assert any(p.startswith("passwd.txt: links outside") for p in problems)


def test_missing_and_empty_corpus_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does-not-exist"):
        load_corpus(tmp_path / "does-not-exist")
    with pytest.raises(CorpusError, match=str(tmp_path.name)):
        load_corpus(tmp_path)


def test_jsonl_metadata_and_sidecar_errors(tmp_path: Path) -> None:
    record = {"id": "a1", "title": "Title", "text": "Body text here.", "published": "July 19, 2024"}
    (tmp_path / "a.jsonl").write_text(json.dumps(record) + "\n")
    (tmp_path / "metadata.jsonl").write_text(json.dumps({"doc_id": "nope", "title": "x"}) + "\n")
    corpus = load_corpus(tmp_path)
    assert corpus.articles[0].published == "2024-07-19"
    assert any("no article with doc_id 'nope'" in str(p) for p in corpus.problems)


def test_clean_keeps_body_and_normalize_date() -> None:
    text, meta, removed = clean("Headline of the story here\nBody one.\n\nBody one.\n")
    assert meta["title"] == "Headline of the story here"
    assert text == "Body one.\n\nBody one."  # short repeats are kept: only long paragraphs dedupe
    assert normalize_date("2024-07-18 20:07:21") == "2024-07-18T20:07:21"
    assert normalize_date("sometime") == "sometime"


def test_hard_wrapped_sentences_stay_one_paragraph() -> None:
    text, meta, _ = clean(
        "Hainan duty-free sales climb\n\n"
        "Sales in Hainan reached 43.7 billion yuan last\nyear, up 25 percent, officials said.\n"
        "Cosmetics led the growth.\n\nShoppers came from the mainland."
    )
    assert meta["title"] == "Hainan duty-free sales climb"
    assert text.split("\n\n") == [
        "Sales in Hainan reached 43.7 billion yuan last\nyear, up 25 percent, officials said.",
        "Cosmetics led the growth.",
        "Shoppers came from the mainland.",
    ]


@pytest.mark.parametrize(
    "first_paragraph",
    [
        "By the end of 2023, Yichang had 35,000 physical shops with online sales channels.",
        "By complex actually majority a in and tied gloria the operating loses " * 30,
    ],
)
def test_a_paragraph_starting_with_by_is_not_a_byline(first_paragraph: str) -> None:
    text, meta, removed = clean(f"Yichang shops go online\n\n{first_paragraph}\n\nMore text.")
    assert "author" not in meta and text.startswith(first_paragraph.strip())
    _, meta, _ = clean("Yichang shops go online\n\nBy Chen Zai and Li Wei, Yichang Studio\n\nText.")
    assert meta["author"] == "Chen Zai and Li Wei" and meta["publisher"] == "Yichang Studio"


PEARL_MD = """# Guangzhou's **online** retail sales rise in July

*Published 2024-08-03 by Pearl River Business Weekly*

We use cookies to improve your experience. Accept all cookies to continue.

Guangzhou's online retail sales rose **18 percent** in July, according to the
[city statistics bureau](https://example.org/stats).

Share | Tweet | Email

- Live-streaming accounted for _a third_ of the sales.

Subscribe to our newsletter for daily updates.
"""

FRONT_MD = """---
title: "Shenzhen exporters turn to live commerce"
publisher: Bay Area Daily
date: 2024-09-01
tags: [trade, ecommerce]
---

Shenzhen exporters sold `goods` worth 12 billion yuan through live commerce in August.
"""


def test_markdown_articles_give_their_metadata_and_lose_their_markup(tmp_path: Path) -> None:
    (tmp_path / "pearl.md").write_text(PEARL_MD)
    (tmp_path / "front.md").write_text(FRONT_MD)
    corpus = load_corpus(tmp_path)
    front, pearl = corpus.articles
    assert (pearl.title, pearl.publisher, pearl.published) == (
        "Guangzhou's online retail sales rise in July",
        "Pearl River Business Weekly",
        "2024-08-03",
    )
    assert pearl.text == (
        "Guangzhou's online retail sales rose 18 percent in July, according to the\n"
        "city statistics bureau.\n\nLive-streaming accounted for a third of the sales."
    )
    assert (front.title, front.publisher, front.published) == (
        "Shenzhen exporters turn to live commerce",
        "Bay Area Daily",
        "2024-09-01",
    )
    assert front.text.startswith("Shenzhen exporters sold goods worth")
    # Every removal is listed: nothing a user wrote disappears unsaid.
    kinds = {r.kind for report in corpus.reports for r in report.removed}
    assert {
        "cookie notice",
        "newsletter",
        "social-share line",
        "dateline (moved to metadata)",
        "front matter (moved to metadata)",
        "front matter",  # tags: not a field an article has, listed rather than lost
    } <= kinds


def test_a_txt_article_keeps_its_asterisks(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Sales rose by 5 percent *year on year* in the second quarter.")
    assert "*year on year*" in load_corpus(tmp_path).articles[0].text


def test_answers_from_markdown_cite_clean_text_at_true_offsets(embedder, tmp_path: Path) -> None:
    from rag.assistant import Assistant

    (tmp_path / "pearl.md").write_text(PEARL_MD)
    assistant = Assistant.from_corpus(tmp_path, None, embedder=embedder)
    answer = assistant.ask("How much did Guangzhou's online retail sales rise in July?")
    first = answer.evidence[0]
    assert "18 percent" in first.text and "**" not in answer.text and "](" not in answer.text
    assert assistant.articles[0].text[first.start : first.end] == first.text
    assert first.publisher == "Pearl River Business Weekly" and first.published == "2024-08-03"
