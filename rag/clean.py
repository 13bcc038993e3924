"""Article cleaning: boilerplate out, headers and front matter into metadata, Markdown stripped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Removal:
    """A line the cleaner took out of an article, and why."""

    kind: str  # navigation | cookie notice | contact | reprint notice | repeated paragraph | ...
    text: str


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_BOILERPLATE = (
    ("navigation", re.compile(r"^[^.!?。]{0,150}\s[›»]\s[^.!?。]{0,150}$")),
    ("cookie notice", re.compile(r"\bcookies?\b.*\b(browse|settings|policy|consent|accept)", re.I)),
    ("cookie notice", re.compile(r"\b(privacy policy|terms of (use|service))\b", re.I)),
    (
        "contact",
        re.compile(r"^(for (any )?(inquiries|enquiries|questions)|contact us|e-?mail)\b.*@", re.I),
    ),
    (
        "cookie notice",
        re.compile(
            r"^(we use cookies|this (site|website) uses cookies|accept (all )?cookies)", re.I
        ),
    ),
    (
        "newsletter",
        re.compile(
            r"^(subscribe|sign up)\b.{0,80}\b(newsletter|updates|inbox|briefing)"
            r"|\bnewsletter\b.{0,60}\b(subscribe|sign up)\b",
            re.I,
        ),
    ),
    (
        "social-share line",
        re.compile(
            r"^(share (this|on)|follow us on|like us on)\b"
            r"|^(share|tweet|email|print)(\s*[|·/,]\s*(share|tweet|email|print|facebook|twitter|"
            r"x|linkedin|weibo|wechat|whatsapp))+\s*$",
            re.I,
        ),
    ),
    (
        "reprint notice",
        re.compile(
            r"\b(reprint(ing)?|all rights reserved|copyright ©"
            r"|unauthori[sz]ed (use|reproduction|aforementioned))\b",
            re.I,
        ),
    ),
)
_DATE_LINE = re.compile(
    r"^(?P<date>\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?)"
    r"(?:\s+Source:\s*(?P<source>.+))?$"
)
# Names only ("By Chen Zai, Yichang Studio"): "By the end of 2023, sales rose 5%." is text.
_NAME = r"[A-Z][\w.'’-]*"
_BYLINE = re.compile(
    rf"^By\s+(?P<who>{_NAME}(?:\s+(?:and\s+)?{_NAME}){{0,5}})"
    r"(?:,\s*(?P<org>[^.!?]{1,120}))?$"
)
_SOURCE_LINE = re.compile(r"^Source:\s*(?P<source>.+)$", re.I)
# "Published 2024-08-03 by Pearl River Business Weekly", "Published: August 3, 2024".
_PUBLISHED_LINE = re.compile(
    r"^(?:Published|Posted|Updated)(?: on)?:?\s+"
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2}|[A-Z][a-z]+\.? \d{1,2},? \d{4}|\d{1,2} [A-Z][a-z]+ \d{4})"
    r"(?:\s+(?:by|from|[|·—-])\s+(?P<source>[^.!?]{1,120}))?\.?$",
    re.I,
)
# Front matter: a first block between "---" lines of "key: value" pairs.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<body>(?:.*\n)*?)---[ \t]*(?:\n|\Z)")
_FRONT_KEYS = {
    "title": "title",
    "publisher": "publisher",
    "source": "publisher",
    "published": "published",
    "date": "published",
    "author": "author",
    "byline": "author",
    "url": "url",
}
_MARKUP = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # an image: nothing to read
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # a link: its words
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # **bold**
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *emphasis*
    (re.compile(r"(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)"), r"\1"),  # _emphasis_
    (re.compile(r"`([^`]+)`"), r"\1"),  # `code`
)
_LINE_MARK = re.compile(r"^(?:#{1,6}\s+|>\s?|[-*+]\s+(?=\S)|\d+\.\s+(?=\S))")
# "# Heading" (ATX; a closing run of #s is part of the mark), and the line under a
# "Heading\n=======" (setext); "---", "***" and "___" alone are a thematic break.
_ATX_HEADING = re.compile(r"^#{1,6}(?:\s+|$)")
_SETEXT_UNDERLINE = re.compile(r"^(?:=+|-+)\s*$")
_THEMATIC_BREAK = re.compile(r"^(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_HEADER_LINES = 6  # headline, dateline and byline sit at the very top


def clean(text: str, *, markdown: bool = False) -> tuple[str, dict[str, str], list[Removal]]:
    """Strip boilerplate and repeated paragraphs; lift headline, dateline and byline into metadata.

    `markdown=True` (a .md file) first reads its front matter into metadata and strips the
    markup (`**bold**`, links, list marks) from every line: the cleaned text, which all offsets
    point into, holds the words alone. Its headings are not sentences and leave the text: the
    first, when it comes before any text and no title is known, is the title; the others are
    listed as removed. Returns (cleaned text, metadata, removals). Paragraphs are joined by
    blank lines.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    meta: dict[str, str] = {}
    removed: list[Removal] = []
    headings: set[int] = set()  # indexes of the lines that are Markdown headings
    if markdown:
        text = _front_matter(text, meta, removed)
    lines = [line.strip() for line in text.split("\n")]
    if markdown:
        headings = _markdown_headings(lines, removed)
        lines = [_strip_markdown(line) for line in lines]
    kept: list[str] = []
    seen: set[str] = set()
    content_lines = [i for i, line in enumerate(lines) if line]
    for position, index in enumerate(content_lines):
        line = lines[index]
        kind = _boilerplate_kind(line)
        if kind is None and index in headings:
            kind = _heading_kind(line, meta, first=not kept, near_top=position < _HEADER_LINES)
        if kind is None and position < _HEADER_LINES:
            is_last = position == len(content_lines) - 1
            kind = _header_kind(line, meta, headline_allowed=not kept and not is_last)
        if kind is None:
            key = fold(line)
            if key in seen and len(key) > 40:
                kind = "repeated paragraph"
            seen.add(key)
        if kind is None:
            joins_previous = kept and index > 0 and lines[index - 1] == kept[-1].rsplit("\n", 1)[-1]
            if joins_previous and line[0].islower():
                kept[-1] += "\n" + line  # a hard-wrapped sentence goes on: keep it one paragraph
            else:
                kept.append(line)
        else:
            removed.append(Removal(kind, line))
    if "published" in meta:
        meta["published"] = normalize_date(meta["published"])
    return "\n\n".join(kept), meta, removed


def _boilerplate_kind(line: str) -> str | None:
    # Length first: boilerplate is short, and scanning long paragraphs dominated big corpora.
    for kind, pattern in _BOILERPLATE:
        if len(line) < 400 and pattern.search(line):
            return kind
    if len(line) < 200 and _EMAIL.search(line):
        return "contact"
    return None


def _header_kind(line: str, meta: dict[str, str], *, headline_allowed: bool) -> str | None:
    """Recognize a headline, dateline or byline near the top and record it in `meta`."""
    if match := _DATE_LINE.match(line):
        meta.setdefault("published", match["date"])
        if match["source"]:
            meta.setdefault("publisher", match["source"].strip())
        return "dateline (moved to metadata)"
    if match := _BYLINE.match(line):
        if match["org"]:
            meta.setdefault("publisher", match["org"].strip())
        meta.setdefault("author", match["who"].strip())
        return "byline (moved to metadata)"
    if match := _SOURCE_LINE.match(line):
        meta.setdefault("publisher", match["source"].strip())
        return "source line (moved to metadata)"
    if match := _PUBLISHED_LINE.match(line):
        meta.setdefault("published", match["date"].strip())
        if match["source"]:
            meta.setdefault("publisher", match["source"].strip())
        return "dateline (moved to metadata)"
    headline = line.lstrip("#").strip()
    looks_like_headline = (
        headline_allowed
        and "title" not in meta
        and len(headline) < 200
        and not re.search(r"[.!?。！？]$", headline)
        and len(headline.split()) >= 3
    )
    if looks_like_headline:
        meta["title"] = headline
        return "headline (moved to metadata)"
    return None


def _markdown_headings(lines: list[str], removed: list[Removal]) -> set[int]:
    """The indexes of `lines` that are headings; setext underlines and thematic breaks are
    blanked in place (and listed in `removed`), so that no "===" or "---" is read as text."""
    headings: set[int] = set()
    for index, line in enumerate(lines):
        if _ATX_HEADING.match(line):
            headings.add(index)
            lines[index] = re.sub(r"^#{1,6}\s*|\s+#+$", "", line)  # "## Sales ##": all the #s
        elif _SETEXT_UNDERLINE.match(line) and index and lines[index - 1]:
            if index - 1 not in headings:
                headings.add(index - 1)
            removed.append(Removal("heading underline", line))
            lines[index] = ""
        elif _THEMATIC_BREAK.match(line):
            removed.append(Removal("thematic break", line))
            lines[index] = ""
    return headings


def _heading_kind(line: str, meta: dict[str, str], *, first: bool, near_top: bool) -> str:
    """A Markdown heading: the title when it is the first thing in the article and none is
    known, else a heading, which is no sentence to cite. A dateline or byline written as a
    heading near the top ("## 2024-08-03 Source: Daily") is read as one (`_header_kind`)."""
    if near_top and (kind := _header_kind(line, meta, headline_allowed=False)):
        return kind
    if first and "title" not in meta:
        meta["title"] = line
        return "headline (moved to metadata)"
    return "heading"


def _front_matter(text: str, meta: dict[str, str], removed: list[Removal]) -> str:
    """`text` without its front matter, whose known keys go into `meta` and the rest is listed."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text
    for line in match["body"].splitlines():
        key, colon, value = line.partition(":")
        field_name = _FRONT_KEYS.get(key.strip().lower())
        value = value.strip().strip("'\"")
        if colon and field_name and value:
            meta.setdefault(field_name, value)
            removed.append(Removal("front matter (moved to metadata)", line.strip()))
        elif line.strip():
            removed.append(Removal("front matter", line.strip()))
    return text[match.end() :]


def _strip_markdown(line: str) -> str:
    """A Markdown line as words: no heading, list or quote marks, emphasis, code or links."""
    line = _LINE_MARK.sub("", line)
    for pattern, replacement in _MARKUP:
        line = pattern.sub(replacement, line)
    return line.strip()


def normalize_date(value: str) -> str:
    """ISO 8601 for the date forms news sites use; unknown forms are kept as written."""
    value = value.strip()
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
        "%B %d, %Y",
        "%b %d, %Y",
        "%d %B %Y",
        "%Y/%m/%d",
    ):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.isoformat() if ("%H" in fmt) else parsed.date().isoformat()
    return value


def fold(text: str) -> str:
    """Case- and space-insensitive key for spotting repeated paragraphs and articles."""
    return " ".join(text.lower().split())
