"""Markdown headings are no sentences: cleaning takes them out of the text answers cite."""

from __future__ import annotations

from pathlib import Path

from rag.clean import clean
from rag.corpus import load_corpus
from rag.text import split_sentences

TITLED = """---
title: Guangzhou online retail sales rise in July
publisher: Pearl River Business Weekly
---

# Guangzhou online retail sales rise in July

Guangzhou's online retail sales rose 7.4 percent year on year in July 2024.

## Home appliances ##

Sales of home appliances through live-streaming channels grew 31 percent.

### What comes next

The bureau publishes its next figures in September.
"""

UNTITLED = """# Shenzhen exporters turn to live commerce

*Published 2024-09-01 by Bay Area Daily*

Shenzhen exporters sold goods worth 12 billion yuan through live commerce in August.

## Outlook

Exporters expect more in the autumn.
"""

SETEXT = """Hainan duty-free sales
======================

Duty-free sales on Hainan island reached 30 billion yuan in the first half.

---

Offshore shoppers
-----------------

Offshore shoppers spent 6,000 yuan each on average.
"""


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def test_headings_leave_the_text_and_the_front_matter_title_stands() -> None:
    text, meta, removed = clean(TITLED, markdown=True)
    assert meta["title"] == "Guangzhou online retail sales rise in July"
    assert text == (
        "Guangzhou's online retail sales rose 7.4 percent year on year in July 2024.\n\n"
        "Sales of home appliances through live-streaming channels grew 31 percent.\n\n"
        "The bureau publishes its next figures in September."
    )
    headings = [r.text for r in removed if r.kind == "heading"]
    assert headings == [
        "Guangzhou online retail sales rise in July",
        "Home appliances",
        "What comes next",
    ]


def test_the_first_heading_is_the_title_when_none_is_given() -> None:
    text, meta, removed = clean(UNTITLED, markdown=True)
    assert meta["title"] == "Shenzhen exporters turn to live commerce"
    assert (meta["publisher"], meta["published"]) == ("Bay Area Daily", "2024-09-01")
    assert "Outlook" not in text and "#" not in text
    assert sentences(text) == [
        "Shenzhen exporters sold goods worth 12 billion yuan through live commerce in August.",
        "Exporters expect more in the autumn.",
    ]
    assert ("heading", "Outlook") in {(r.kind, r.text) for r in removed}


def test_setext_headings_and_thematic_breaks_are_not_text() -> None:
    text, meta, removed = clean(SETEXT, markdown=True)
    assert meta["title"] == "Hainan duty-free sales"
    assert sentences(text) == [
        "Duty-free sales on Hainan island reached 30 billion yuan in the first half.",
        "Offshore shoppers spent 6,000 yuan each on average.",
    ]
    kinds = {r.kind for r in removed}
    assert {"heading", "heading underline", "thematic break"} <= kinds


def test_a_txt_article_keeps_its_hash_lines_as_written() -> None:
    # Only Markdown files have headings; a .txt keeps every line that is not boilerplate.
    text, _, _ = clean("Sales rose 5 percent.\n\n# 3 was the rank of the city.\n")
    assert "# 3 was the rank of the city." in text


def test_a_markdown_article_in_a_corpus_cites_no_heading(tmp_path: Path) -> None:
    (tmp_path / "guangzhou.md").write_text(TITLED)
    (tmp_path / "shenzhen.md").write_text(UNTITLED)
    corpus = load_corpus(tmp_path)
    for article in corpus.articles:
        said = sentences(article.text)
        assert not {"Home appliances", "What comes next", "Outlook"} & set(said)
        assert article.title not in said
    assert {a.title for a in corpus.articles} == {
        "Guangzhou online retail sales rise in July",
        "Shenzhen exporters turn to live commerce",
    }
