"""Extracted: an article's text and metadata as one format's reader found them, before cleaning."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extracted:
    """One article a document held: its text (paragraphs on their own lines) and metadata.

    Attributes:
        text: the main text, which the project's own cleaning then reads as a .txt file's.
        title, publisher, published, author, url: what the document said of itself ("" when
            it did not say); `published` as the document wrote it, normalised later.
        reader: the library that read it ("trafilatura", "pypdf", "feedparser").
        notes: what the reader removed or noticed ("removed running header 'X' from 2 pages").
        summary_only: a feed entry that carried its summary, not its full text.
    """

    text: str
    reader: str
    title: str = ""
    publisher: str = ""
    published: str = ""
    author: str = ""
    url: str = ""
    notes: tuple[str, ...] = ()
    summary_only: bool = False
