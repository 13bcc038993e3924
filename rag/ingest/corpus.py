"""Read a corpus folder (text, web pages, PDFs, feeds): decode, clean, dedupe, attach metadata."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import CorpusError
from ..types import Article
from .clean import Removal, clean, fold, normalize_date
from .documents import DOCUMENT_SUFFIXES, document_suffix, read_document
from .extracted import Extracted

TEXT_SUFFIXES = (".txt", ".md", ".jsonl")
ARTICLE_SUFFIXES = TEXT_SUFFIXES + DOCUMENT_SUFFIXES
# What a user is told to add when nothing could be read.
FORMATS = ".txt, .md, .jsonl, .html, .pdf or an RSS/Atom feed"
METADATA_FILE = "metadata.jsonl"
METADATA_FIELDS = ("title", "publisher", "published", "url", "author")
# The fields whose absence a document's report says ("no author found").
REPORTED = ("title", "author", "published")


@dataclass(frozen=True)
class ArticleReport:
    """What loading did to one article."""

    doc_id: str
    source: str
    encoding: str  # "" for a document read by its own library (a page, a PDF, a feed)
    removed: tuple[Removal, ...] = ()
    reader: str = ""  # that library ("trafilatura", "pypdf", "feedparser"); "" for text
    notes: tuple[str, ...] = ()  # what the reader removed, and the metadata it did not find


@dataclass(frozen=True)
class Problem:
    """A file (or a line of one) that could not be used, with the reason."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Corpus:
    """The loaded articles plus a report of everything that was cleaned or skipped."""

    articles: tuple[Article, ...]
    reports: tuple[ArticleReport, ...] = ()
    problems: tuple[Problem, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 of its bytes


def load_corpus(directory: str | os.PathLike[str]) -> Corpus:
    """Load every article under `directory`; unreadable files become `problems`, not errors.

    Raises CorpusError when the directory is missing or yields no article at all.
    """
    root, paths, problems = corpus_files(directory)
    return assemble(root, [read_file(root, path) for path in paths], problems)


@dataclass(frozen=True)
class FileRead:
    """One corpus file as read: its checksum, its articles with their reports, its problems."""

    rel: str
    sha256: str | None  # None when the file could not be read
    articles: tuple[tuple[Article, ArticleReport], ...] = ()
    problems: tuple[Problem, ...] = ()


def corpus_files(directory: str | os.PathLike[str]) -> tuple[Path, list[Path], list[Problem]]:
    """The corpus root, its article files in reading order, and the files skipped on the way."""
    root = Path(directory)
    if not root.is_dir():
        raise CorpusError(
            f"corpus directory {str(root)!r} does not exist or is not a directory; "
            f"pass the folder that holds your articles ({FORMATS})"
        )
    root = root.resolve()
    problems: list[Problem] = []
    return root, _article_files(root, problems), problems


def read_file(root: Path, path: Path) -> FileRead:
    """Read, decode and clean one article file (independent of every other: run in parallel)."""
    rel = path.relative_to(root).as_posix()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = Problem(rel, f"cannot be read ({exc.strerror or exc})")
        return FileRead(rel, None, problems=(problem,))
    digest = hashlib.sha256(raw).hexdigest()
    # A page, PDF or feed is read by its library whatever its name says (a saved page named
    # .txt), as uploads are: by its first bytes.
    document = path.suffix if path.suffix in DOCUMENT_SUFFIXES else document_suffix(raw)
    if document is not None:
        return _read_document(raw, digest, rel, document)
    try:
        text, encoding = decode(raw)
    except ValueError as exc:
        return FileRead(rel, digest, problems=(Problem(rel, str(exc)),))
    problems: list[Problem] = []
    reader = _read_jsonl if path.suffix == ".jsonl" else _read_text_file
    loaded = tuple(reader(text, encoding, rel, problems))
    return FileRead(rel, digest, loaded, tuple(problems))


def assemble(root: Path, reads: Sequence[FileRead], problems: Sequence[Problem]) -> Corpus:
    """The corpus of the files `reads`, in order: repeated texts and doc ids are kept once."""
    articles: list[Article] = []
    reports: list[ArticleReport] = []
    problems = list(problems)
    files: dict[str, str] = {}
    seen_content: dict[str, str] = {}
    doc_ids: set[str] = set()
    for read in reads:
        if read.sha256 is not None:
            files[read.rel] = read.sha256
        problems += read.problems
        for article, report in read.articles:
            digest = text_digest(article)
            if digest in seen_content:
                problems.append(
                    Problem(read.rel, f"same text as {seen_content[digest]!r}; indexed once")
                )
                continue
            if article.doc_id in doc_ids:
                problems.append(
                    Problem(read.rel, f"doc_id {article.doc_id!r} already used; skipped")
                )
                continue
            seen_content[digest] = article.doc_id
            doc_ids.add(article.doc_id)
            articles.append(article)
            reports.append(report)
    articles = _apply_sidecar(root, articles, problems, files)
    if not articles:
        detail = "; ".join(str(p) for p in problems[:5])
        raise CorpusError(
            f"no readable article in {str(root)!r}"
            + (f" ({detail})" if detail else "")
            + f"; add articles as {FORMATS}"
        )
    return Corpus(tuple(articles), tuple(reports), tuple(problems), files)


def text_digest(article: Article) -> str:
    """What two articles share when they are the same text (up to case, spacing, quotes)."""
    return hashlib.sha256(fold(article.text).encode()).hexdigest()


def _article_files(root: Path, problems: list[Problem]) -> list[Path]:
    found: list[Path] = []
    # followlinks=False: a symlinked directory cannot loop or lead outside the corpus.
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if name.startswith(".") or path.suffix not in ARTICLE_SUFFIXES:
                continue
            if name == METADATA_FILE and Path(folder) == root:
                continue
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                problems.append(Problem(rel, "broken or looping symlink; skipped"))
                continue
            if not target.is_relative_to(root):
                problems.append(Problem(rel, "links outside the corpus directory; skipped"))
                continue
            if not target.is_file():
                problems.append(Problem(rel, "not a regular file; skipped"))
                continue
            found.append(path)
    return found


# UTF-32's marks first: UTF-32-LE's begins with UTF-16-LE's.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(raw: bytes) -> tuple[str, str]:
    """Decode as UTF-16 or UTF-32 after their byte-order mark, else UTF-8, else GB18030 (Chinese
    news), else Latin-1; ValueError for binary data."""
    # Their NUL bytes are characters' halves, not binary: Windows editors save UTF-16 with a BOM.
    for bom, codec in BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                text = ""
            if not _worded(text):  # binary data that happens to open with those two bytes
                raise ValueError(
                    f"not text in {codec.upper()}, though it opens with its byte-order mark; "
                    "save it as UTF-8"
                )
            return text, codec
    if b"\x00" in raw[:65536]:
        raise ValueError("looks binary (NUL bytes); save it as UTF-8 text")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
        non_ascii = [c for c in text if ord(c) > 127]
        # GB18030 accepts most byte soups; trust it only when it yields mostly ideographs.
        if non_ascii and sum("\u3400" <= c <= "\u9fff" for c in non_ascii) / len(non_ascii) > 0.6:
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    text = raw.decode("cp1252", errors="replace")
    if sum(not c.isprintable() and c not in "\n\r\t" for c in text) > len(text) * 0.1:
        raise ValueError("not text in UTF-8, GB18030 or Latin-1; save it as UTF-8")
    return text, "cp1252"


def _worded(text: str) -> bool:
    """Whether decoded text looks written: words set apart by spaces or line breaks, or mostly
    CJK, which needs none. Bytes decoded as UTF-16 almost never give either."""
    if not text.strip():
        return False
    spaces = sum(c.isspace() for c in text)
    cjk = sum("\u3000" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" for c in text)
    return spaces >= 0.05 * len(text) or cjk > 0.5 * len(text)


def _read_text_file(
    text: str, encoding: str, rel: str, problems: list[Problem]
) -> list[tuple[Article, ArticleReport]]:
    doc_id = rel.rsplit(".", 1)[0]
    cleaned, meta, removed = clean(text, markdown=rel.endswith(".md"))
    if not cleaned:
        problems.append(Problem(rel, "no article text left after cleaning (empty file?)"))
        return []
    article = Article(doc_id=doc_id, text=cleaned, source=rel, **meta)
    return [(article, ArticleReport(doc_id, rel, encoding, tuple(removed)))]


def _read_document(raw: bytes, digest: str, rel: str, suffix: str) -> FileRead:
    """A web page, PDF or feed of the corpus read by its library, then cleaned as text is:
    its articles (one, or a feed's entries, "NAME/1", "NAME/2"…) with the metadata it gave."""
    try:
        found = read_document(raw, suffix)
    except ValueError as exc:
        return FileRead(rel, digest, problems=(Problem(rel, str(exc)),))
    stem = rel.rsplit(".", 1)[0]
    out, problems = [], []
    for number, extracted in enumerate(found, start=1):
        doc_id, source = (stem, rel) if len(found) == 1 else (f"{stem}/{number}", f"{rel}:{number}")
        article, report = _extracted_article(extracted, doc_id, source)
        if article is None:
            problems.append(Problem(rel, "no article text left after cleaning", number))
            continue
        out.append((article, report))
    return FileRead(rel, digest, tuple(out), tuple(problems))


def _extracted_article(
    extracted: Extracted, doc_id: str, source: str
) -> tuple[Article | None, ArticleReport]:
    """The article of what a document's reader found: its text cleaned as a .txt file's, the
    metadata the document gave winning over what cleaning lifted from the text."""
    cleaned, meta, removed = clean(extracted.text)
    for key in METADATA_FIELDS:
        if getattr(extracted, key):
            meta[key] = getattr(extracted, key)
    meta["published"] = normalize_date(meta.get("published", ""))
    notes = extracted.notes + tuple(f"no {key} found" for key in REPORTED if not meta.get(key))
    report = ArticleReport(doc_id, source, "", tuple(removed), extracted.reader, notes)
    if not cleaned:
        return None, report
    article = Article(doc_id, cleaned, source=source, summary_only=extracted.summary_only, **meta)
    return article, report


def _read_jsonl(
    text: str, encoding: str, rel: str, problems: list[Problem]
) -> list[tuple[Article, ArticleReport]]:
    out: list[tuple[Article, ArticleReport]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(rel, f"not valid JSON ({exc.msg})", number))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(rel, "expected a JSON object per line", number))
            continue
        if "question" in record and "text" not in record:
            problems.append(Problem(rel, "a question/answer file, not articles; skipped"))
            return []
        if "measure" in record and "value" in record and "text" not in record:
            problems.append(Problem(rel, "a gold figures file, not articles; skipped"))
            return []
        doc_id = record.get("id", record.get("doc_id"))
        body = record.get("text")
        if not isinstance(doc_id, (str, int)) or not isinstance(body, str):
            problems.append(Problem(rel, 'needs "id" (string) and "text" (string)', number))
            continue
        cleaned, meta, removed = clean(body)
        if not cleaned:
            problems.append(Problem(rel, "empty text", number))
            continue
        for key in METADATA_FIELDS:
            if isinstance(record.get(key), str) and record[key].strip():
                meta[key] = record[key].strip()
        meta["published"] = normalize_date(meta.get("published", ""))
        summary_only = record.get("summary_only") is True  # a feed entry's summary, from a link
        article = Article(
            str(doc_id), cleaned, source=f"{rel}:{number}", summary_only=summary_only, **meta
        )
        out.append(
            (article, ArticleReport(str(doc_id), f"{rel}:{number}", encoding, tuple(removed)))
        )
    return out


def _apply_sidecar(
    root: Path, articles: list[Article], problems: list[Problem], files: dict[str, str]
) -> list[Article]:
    """Overlay `metadata.jsonl` (doc_id, title, publisher, published, url) onto the articles."""
    path = root / METADATA_FILE
    if not path.is_file():
        return articles
    if not path.resolve().is_relative_to(root):  # a symlink must not pull in files from elsewhere
        problems.append(Problem(METADATA_FILE, "links outside the corpus directory; skipped"))
        return articles
    raw = path.read_bytes()
    files[METADATA_FILE] = hashlib.sha256(raw).hexdigest()
    by_id = {a.doc_id: i for i, a in enumerate(articles)}
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(METADATA_FILE, f"not valid JSON ({exc.msg})", number))
            continue
        doc_id = record.get("doc_id") if isinstance(record, dict) else None
        if doc_id not in by_id:
            problems.append(Problem(METADATA_FILE, f"no article with doc_id {doc_id!r}", number))
            continue
        updates = {k: str(record[k]).strip() for k in METADATA_FIELDS if record.get(k)}
        if "published" in updates:
            updates["published"] = normalize_date(updates["published"])
        articles[by_id[doc_id]] = replace(articles[by_id[doc_id]], **updates)
    return articles
