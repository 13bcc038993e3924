"""Documents that are not plain text (web pages, PDFs, feeds): which reader takes which bytes."""

from __future__ import annotations

from collections.abc import Callable

from .extracted import Extracted
from .feed import read_feed
from .html import read_html
from .limits import MAX_DOCUMENT_BYTES
from .pdf import read_pdf

# By suffix: the reader of each document format, bytes and the page's address in.
READERS: dict[str, Callable[[bytes, str], list[Extracted]]] = {
    ".html": lambda raw, url: [read_html(raw, url)],
    ".htm": lambda raw, url: [read_html(raw, url)],
    ".pdf": lambda raw, url: [read_pdf(raw)],
    ".xml": lambda raw, url: read_feed(raw),
    ".rss": lambda raw, url: read_feed(raw),
    ".atom": lambda raw, url: read_feed(raw),
}
DOCUMENT_SUFFIXES = tuple(READERS)
# How a fetched link's Content-Type names each format.
CONTENT_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/rss+xml": ".xml",
    "application/atom+xml": ".xml",
    "application/xml": ".xml",
    "text/xml": ".xml",
}


def read_document(raw: bytes, suffix: str, url: str = "") -> list[Extracted]:
    """The articles of a document read as `suffix` says; ValueError saying why it has none."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ValueError(
            f"is {len(raw) / 2**20:.0f} MB, over {MAX_DOCUMENT_BYTES // 2**20} MB; "
            "not an article (save the story's own page, or split the document)"
        )
    return READERS[suffix](raw, url)


def document_suffix(raw: bytes, content_type: str = "") -> str | None:
    """The document format that `raw` is by its first bytes (else by `content_type`):
    ".pdf", ".xml" (a feed) or ".html"; None for anything else (text, or unknown)."""
    if raw.startswith(b"%PDF"):
        return ".pdf"
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
        return ".xml"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return ".html"
    return CONTENT_TYPES.get(content_type)
