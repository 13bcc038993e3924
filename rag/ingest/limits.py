"""What one uploaded file may hold, checked before it is cleaned or indexed."""

from __future__ import annotations

from ..types import Article
from .text import split_sentences

# Measured on the probe's files: 10^6 two-character lines took 3 minutes to clean and 7 to
# index; one 5 MB line and 100,000 JSONL records each took minutes and gigabytes. Real articles
# stay far below each limit (the seed articles: at most 33 lines, 915 characters a line, 30
# sentences, 404 characters a sentence).
MAX_LINES = 5_000  # lines of a .txt or .md
MAX_LINE_CHARS = 20_000  # characters of one line (a paragraph) of a .txt or .md
MAX_RECORDS = 2_000  # lines of a .jsonl, one article each
MAX_SENTENCES = 2_000  # sentences of one article
MAX_SENTENCE_CHARS = 5_000  # characters of one sentence
MAX_ARTICLES = 2_000  # articles one upload adds, all its files together
# A saved page, PDF or feed: article pages weigh a few hundred KB; a report's PDF with its
# images a few MB. Past this it is a site dump or a book.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def check_shape(text: str, suffix: str) -> None:
    """ValueError saying what to change when the file has too many lines or records, or (a .txt
    or .md) too long a line: all cheap to count, unlike what cleaning them costs."""
    lines = text.splitlines()
    if suffix == ".jsonl":
        records = sum(1 for line in lines if line.strip())
        if records > MAX_RECORDS:
            raise ValueError(
                f"has {records:,} records, over {MAX_RECORDS:,}; split it into smaller files"
            )
        return
    if len(lines) > MAX_LINES:
        raise ValueError(f"has {len(lines):,} lines, over {MAX_LINES:,}; split it into articles")
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise ValueError(
                f"line {number} has {len(line):,} characters, over {MAX_LINE_CHARS:,}; "
                "break it into paragraphs"
            )


def check_article(article: Article) -> None:
    """ValueError saying what to change when an article has too many sentences or too long a
    sentence (a JSONL record's text is one line, so only here are its sentences seen)."""
    spans = split_sentences(article.text)
    if len(spans) > MAX_SENTENCES:
        raise ValueError(
            f"{article.doc_id} has {len(spans):,} sentences, over {MAX_SENTENCES:,}; "
            "split it into several articles"
        )
    longest = max((end - start for start, end in spans), default=0)
    if longest > MAX_SENTENCE_CHARS:
        raise ValueError(
            f"{article.doc_id} has a sentence of {longest:,} characters, over "
            f"{MAX_SENTENCE_CHARS:,}; is it running text?"
        )
