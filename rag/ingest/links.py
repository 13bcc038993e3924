"""Links: each page fetched, read as its format says, and kept as JSON lines with its address."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .corpus import REPORTED, Problem
from .documents import document_suffix, read_document
from .extracted import Extracted

MAX_LINKS = 20  # one request's links: each may take a fetch's timeout


@dataclass(frozen=True)
class FetchedLinks:
    """Links read: a JSON-lines file of articles per link, to upload under the link's name."""

    files: tuple[tuple[str, Path], ...] = ()  # (the link as given, its articles' .jsonl)
    problems: tuple[Problem, ...] = ()  # a link that could not be fetched or read, and why
    notes: tuple[str, ...] = ()  # per link: the reader used, what it removed or did not find


def fetch_links(urls: Sequence[str], folder: Path, *, private: bool) -> FetchedLinks:
    """Fetch each of `urls` and write its articles into `folder` (the caller's, temporary).

    Each article is kept as the reader found it (text, title, publisher, date, author) with
    its address, so that the citation links to it; a page that names no canonical address of
    its own links to where it was fetched from. `private` as `rag.ingest.fetch.fetch` takes it.
    """
    urls = [url.strip() for url in urls if url.strip()]
    if not urls:
        return FetchedLinks()
    from .fetch import fetch  # trafilatura's fetcher: imported when a link is first added

    if len(urls) > MAX_LINKS:
        over = Problem(f"{len(urls)} links", f"over {MAX_LINKS} at once; add them in parts")
        return FetchedLinks(problems=(over,))
    files, problems, notes = [], [], []
    for number, url in enumerate(urls, start=1):
        try:
            page = fetch(url, private=private)
            suffix = document_suffix(page.data, page.content_type)
            if suffix is None:
                raise ValueError(
                    f"is {page.content_type or 'of no known type'}, not an article page"
                )
            found = read_document(page.data, suffix, page.url)
        except ValueError as exc:
            problems.append(Problem(url, str(exc)))
            continue
        stem = _slug(found[0].url or page.url if len(found) == 1 else page.url)
        records = [
            {
                "id": stem if len(found) == 1 else f"{stem}/{n}",
                "text": item.text,
                "title": item.title,
                "publisher": item.publisher or (urlsplit(page.url).hostname or ""),
                "published": item.published,
                "author": item.author,
                "url": item.url or page.url,
                "summary_only": item.summary_only,
            }
            for n, item in enumerate(found, start=1)
        ]
        path = folder / f"link-{number}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        files.append((url, path))
        notes.append(_note(url, found))
    return FetchedLinks(tuple(files), tuple(problems), tuple(notes))


def _note(url: str, found: Sequence[Extracted]) -> str:
    """ "URL: read with trafilatura; no author found": how a link was read, what it lacked."""
    counts = Counter(note for item in found for note in item.notes)
    counts.update(f"no {key} found" for item in found for key in REPORTED if not getattr(item, key))
    many = len(found) > 1
    said = [f"{note} ({n} of {len(found)})" if many else note for note, n in counts.items()]
    entries = f" ({len(found)} entries)" if len(found) > 1 else ""
    return f"{url}: read with {found[0].reader}{entries}" + "".join(f"; {n}" for n in said)


def _slug(url: str) -> str:
    """An article id from a page's address: "example.com/news/2024/story.html" gives
    "example-com-news-2024-story"."""
    parts = urlsplit(url)
    path = re.sub(r"\.(html?|php|aspx?|pdf|xml|rss)$", "", parts.path)
    slug = re.sub(r"[^\w]+", "-", f"{parts.hostname or ''}{path}").strip("-").lower()
    return slug[:80].strip("-") or "link"
