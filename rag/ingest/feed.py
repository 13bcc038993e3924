"""An RSS or Atom feed read with feedparser: each entry one article, its full text or summary."""

from __future__ import annotations

import time
from datetime import datetime
from email.utils import parsedate_to_datetime

import feedparser
from lxml import etree, html

from .extracted import Extracted
from .limits import MAX_RECORDS

# Elements that end a line of text: an entry's HTML becomes paragraphs, not one run of words.
_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}


def read_feed(raw: bytes) -> list[Extracted]:
    """One Extracted per entry of an RSS or Atom feed; ValueError saying why when it is none.

    An entry that carries its full text (`content:encoded`, Atom's `content`) gives it; one
    that carries only a summary gives that, with `summary_only` set and said in its notes.
    """
    # feedparser reads by its own SAX parser, entity expansion off: no billion laughs.
    parsed = feedparser.parse(raw, sanitize_html=True, resolve_relative_uris=False)
    entries = parsed.entries
    if not entries:
        reason = f" ({parsed.bozo_exception})" if parsed.bozo else ""
        raise ValueError(f"is not an RSS or Atom feed with entries{reason}")
    if len(entries) > MAX_RECORDS:
        raise ValueError(
            f"has {len(entries):,} entries, over {MAX_RECORDS:,}; split it into smaller feeds"
        )
    publisher = parsed.feed.get("title", "").strip()
    out = []
    for entry in entries:
        content = "\n\n".join(
            _text(part.get("value", "")) for part in entry.get("content", []) if part
        ).strip()
        summary = _text(entry.get("summary", ""))
        title = _text(entry.get("title", ""))
        notes = ()
        if not content:
            notes = ("summary only: the feed does not carry the full text",)
        out.append(
            Extracted(
                text=content or summary or "",
                reader="feedparser",
                title=title,
                publisher=publisher,
                published=_date(entry),
                author=_author(entry),
                url=entry.get("link", "").strip(),
                notes=notes,
                summary_only=not content,
            )
        )
    return out


def _text(markup: str) -> str:
    """The text of an entry's HTML, a block element a paragraph."""
    if "<" not in markup:
        return markup.strip()
    try:
        root = html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return markup.strip()
    for element in root.iter(*_BLOCKS):
        element.tail = "\n\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n\n"))
    return "\n\n".join(line for line in lines if line)


def _date(entry: feedparser.FeedParserDict) -> str:
    """The entry's publication (else update) date as ISO 8601 in the time zone it was written
    in (feedparser's own converts to UTC, which can move a morning story to the day before);
    "" when it gives none."""
    for key in ("published", "updated"):
        written = entry.get(key, "").strip()
        for parse in (datetime.fromisoformat, parsedate_to_datetime):
            try:
                return parse(written).replace(tzinfo=None).isoformat()
            except (TypeError, ValueError, IndexError):
                continue
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return time.strftime("%Y-%m-%dT%H:%M:%S", stamp) if stamp else ""


def _author(entry: feedparser.FeedParserDict) -> str:
    """The entry's author by name: RSS writes "news@site.org (Wang Lei)"."""
    detail = entry.get("author_detail") or {}
    return (detail.get("name") or entry.get("author") or "").strip()
