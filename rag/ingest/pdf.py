"""A PDF read with pypdf: its text layer joined into paragraphs, running headers and footers out."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from datetime import datetime

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

from .extracted import Extracted

# Press releases and reports run to tens of pages; a book-length PDF is many articles.
MAX_PAGES = 300
# A line on the top or bottom of this share of the pages (at least two) is a running header
# or footer, not the story's.
RUNNING_SHARE = 0.6
# "exam-\nple": a word broken at a line's end, both sides lower case ("Xi-\nJinping" and
# "2023-\n2024" are no such break).
_BROKEN = re.compile(r"\b([A-Za-z]+)-\n([a-z]+)")
_DIGITS = re.compile(r"\d+")


def read_pdf(raw: bytes) -> Extracted:
    """The text and metadata of a PDF; ValueError saying why when it holds no readable text."""
    # pypdf logs each malformed object it repairs: the report says what matters instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError(
                "is encrypted with a password; save an unprotected copy (print to PDF) first"
            )
        if len(reader.pages) > MAX_PAGES:
            raise ValueError(
                f"has {len(reader.pages):,} pages, over {MAX_PAGES}; split it into articles"
            )
        pages = [_lines(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata or {}
    except FileNotDecryptedError:
        raise ValueError(
            "is encrypted with a password; save an unprotected copy (print to PDF) first"
        ) from None
    except LimitReachedError:  # pypdf stops inflating a stream past its limits
        raise ValueError(
            "inflates far past its size when read (a zip bomb?); not an article"
        ) from None
    except (PyPdfError, PdfReadError, OSError, KeyError, TypeError, AssertionError) as exc:
        raise ValueError(f"is not a readable PDF ({type(exc).__name__}: {exc})") from None
    pages, notes = _without_running_lines(pages)
    # One run of lines: a paragraph, or a word, may go on over a page's end.
    joined = _join_broken_words("\n".join(line for page in pages for line in page))
    lines = [line.strip() for line in joined.splitlines() if line.strip()]
    text = _paragraphs(lines)
    if not text:
        raise ValueError(
            "has no text layer (a scanned image?); run OCR on it (ocrmypdf) or add its text as .txt"
        )
    return Extracted(
        text=text,
        reader="pypdf",
        title=_field(info, "/Title"),
        author=_field(info, "/Author"),
        published=_date(_field(info, "/CreationDate")),
        notes=tuple(notes),
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _join_broken_words(text: str) -> str:
    """Words broken across lines joined again: "exam-\nple" gives "example", but "cross-\nborder"
    stays "cross-border" where the document writes it so elsewhere, and so does a one-letter
    start ("e-\ncommerce"): which a dash is, the document's own other lines tell best."""

    folded = text.lower()

    def join(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        dashed = f"{left}-{right}".lower()
        keep = len(left) == 1 or folded.count(dashed) > folded.count(dashed.replace("-", ""))
        # The rest of the second line stays a line: where a paragraph ends still shows.
        return f"{left}-{right}\n" if keep else f"{left}{right}\n"

    return _BROKEN.sub(join, text)


def _without_running_lines(pages: list[list[str]]) -> tuple[list[list[str]], list[str]]:
    """The pages without the lines that open or close most of them ("Company — Annual
    report", "Page 3 of 7": digits compared as one), and a note for each such line."""
    pages = [[line for line in lines if line] for lines in pages]
    if len(pages) < 2:
        return pages, []
    need = max(2, round(RUNNING_SHARE * len(pages)))
    notes = []
    for end, where in ((0, "header"), (-1, "footer")):
        # A header may take two lines (a title and a date): look at the first two of each end.
        for _ in range(2):
            shapes = Counter(_DIGITS.sub("#", lines[end]) for lines in pages if lines)
            shape, count = shapes.most_common(1)[0] if shapes else ("", 0)
            if count < need:
                break
            running = [bool(lines) and _DIGITS.sub("#", lines[end]) == shape for lines in pages]
            example = next(lines[end] for lines, hit in zip(pages, running, strict=True) if hit)
            notes.append(f"removed running {where} {example!r} from {count} pages")
            keep = slice(1, None) if end == 0 else slice(None, -1)
            pages = [
                lines[keep] if hit else lines for lines, hit in zip(pages, running, strict=True)
            ]
    return pages, notes


def _paragraphs(lines: list[str]) -> str:
    """Lines as paragraphs: a line ending a sentence that is shorter than most
    lines ends its paragraph; the others run on into the next line."""
    if not lines:
        return ""
    width = sorted(len(line) for line in lines)[len(lines) * 3 // 4]
    out, current = [], []
    for line in lines:
        current.append(line)
        if line.endswith((".", "!", "?", '"', "”", ":")) and len(line) < 0.85 * width:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return "\n\n".join(out)


def _field(info: object, key: str) -> str:
    try:
        value = info.get(key)  # type: ignore[attr-defined]
    except (PyPdfError, KeyError, TypeError):
        return ""
    return str(value).strip() if value else ""


def _date(value: str) -> str:
    """ISO 8601 of a PDF date ("D:20240803101500+08'00'"), "" when it is none."""
    match = re.match(r"D?:?(\d{4})(\d{2})?(\d{2})?", value)
    if not match:
        return ""
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return datetime(int(year), int(month), int(day)).date().isoformat()
    except ValueError:
        return ""
