"""Documents that are not plain text (web pages, PDFs, feeds): which reader takes which bytes."""

from __future__ import annotations

from .extracted import Extracted
from .limits import MAX_DOCUMENT_BYTES

# By suffix: the format, whose reader is a module of this package.
READERS = {
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
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
    # Each library is imported when a document of its format is first read: a corpus of text
    # never pays for them (0.3 s of every start).
    kind = READERS[suffix]
    if kind == "html":
        from .html import read_html

        return [read_html(raw, url)]
    if kind == "pdf":
        from .pdf import read_pdf

        return [read_pdf(raw)]
    from .feed import read_feed

    return read_feed(raw)


def document_suffix(raw: bytes, content_type: str = "") -> str | None:
    """The document format that `raw` is by its first bytes (else by `content_type`):
    ".pdf", ".xml" (a feed) or ".html"; None for anything else (text, or unknown)."""
    if raw.startswith(b"%PDF"):
        return ".pdf"
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    # Markup from its first byte (a declaration, a comment such as a browser's "saved from
    # url", or the root element): text that merely quotes a tag, or JSON holding HTML, is not.
    if head.startswith(b"<"):
        if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
            return ".xml"
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
            return ".html"
    return CONTENT_TYPES.get(content_type)
