"""A saved web page read with trafilatura: the story without navigation, comments or ads."""

from __future__ import annotations

import logging

import trafilatura
from lxml import etree, html
from trafilatura.settings import use_config

from .extracted import Extracted

# Pages past this many elements are refused before extraction: real articles have a few
# thousand, and lxml's tree of a generated page (a 50 MB one, a million nested divs) takes
# seconds and gigabytes.
MAX_ELEMENTS = 100_000
# The date from the page's metadata and markup only: htmldate's extensive search guesses one
# from the text ("in the first eight months of 2024" gave 2024-01-01), and a wrong date is
# worse than none (it drives relative-date answers); "no published found" says it instead.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")


def read_html(raw: bytes, url: str = "") -> Extracted:
    """The main text and metadata of an HTML page; ValueError saying why when it holds none.

    `url` is where the page came from (a fetched link): the citation's link when the page
    names no canonical address of its own.
    """
    tree = _parse(raw)
    # trafilatura logs what it could not find at warning level: our reports say it instead.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    document = trafilatura.bare_extraction(
        tree,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        config=_CONFIG,
    )
    text = (document.text or "").strip() if document is not None else ""
    if not text:
        raise ValueError(
            "holds no article text that trafilatura could find (a page of links, or one "
            "that needs JavaScript?); save the story's own page, or its text as .txt"
        )
    title = document.title or ""
    first, _, rest = text.partition("\n")
    notes: tuple[str, ...] = ()
    if rest.strip() and _folded(first) == _folded(title):  # the headline above the story
        text, notes = rest.strip(), (f"removed headline (the page's title): {first.strip()}",)
    return Extracted(
        text=text,
        reader="trafilatura",
        notes=notes,
        title=title,
        publisher=document.sitename or "",
        published=document.date or "",
        author=document.author or "",
        url=document.url or url,
    )


def _folded(line: str) -> str:
    return " ".join(line.split()).casefold()


def _parse(raw: bytes) -> html.HtmlElement:
    """The page's tree, or ValueError when it is too big or too deep to be an article."""
    parser = html.HTMLParser()
    try:
        tree = html.fromstring(raw, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"is not readable HTML ({exc})") from None
    # Past 256 levels libxml2 stops reading (silently but for this log): what lies deeper
    # would be lost, so the page is refused rather than read in part.
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        raise ValueError("nests its elements over 255 levels deep; not an article page")
    elements = sum(1 for _ in tree.iter())
    if elements > MAX_ELEMENTS:
        raise ValueError(
            f"has {elements:,} HTML elements, over {MAX_ELEMENTS:,}; not an article page"
        )
    return tree
