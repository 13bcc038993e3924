"""Uploads: article files from outside, checked as hostile input and added to a corpus folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..ingest.corpus import FORMATS, Problem, decode, read_file, text_digest
from ..ingest.documents import DOCUMENT_SUFFIXES, document_suffix, read_document
from ..ingest.limits import MAX_ARTICLES, check_article, check_shape
from ..types import Article
from .store import current_generation

UPLOADS = "uploads"  # the subfolder of the corpus that uploaded articles land in
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_NAME_CHARS = 80
JOURNAL = ".pending.json"  # in the uploads folder, which the corpus walk reads no dot file of
# Formats that decode as Latin-1 "text" but are not articles: refused by their first bytes.
SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (or a Word/Excel file)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"{\\rtf": "an RTF document",
}
_MARKDOWN = re.compile(r"\A---\s*\n|^#{1,6} |^\s*[-*] |\*\*\S|\[[^\]]+\]\([^)]+\)", re.MULTILINE)


@dataclass(frozen=True)
class Added:
    """A file added to the corpus: its name there, what it was called, its articles."""

    path: str  # relative to the corpus folder, e.g. "uploads/report.md"
    given: str  # the name it was uploaded under
    articles: int


@dataclass(frozen=True)
class UploadReport:
    """What an upload did: the files added, and every file or line refused, with the reason."""

    added: tuple[Added, ...] = ()
    problems: tuple[Problem, ...] = ()

    def lines(self) -> list[str]:
        out = [
            f"added {item.given} as {item.path} ({item.articles} "
            f"article{'s' if item.articles != 1 else ''})"
            for item in self.added
        ]
        return out + [f"not added: {problem}" for problem in self.problems]


@dataclass(frozen=True)
class Uploaded:
    """An upload's outcome: the files added or refused, how each link was read and what
    cleaning did to the added (the build report's lines), and the error that undid it."""

    report: UploadReport
    details: tuple[str, ...] = ()  # how links were read; the build report on the added files
    error: str = ""  # set when the index could not be rebuilt: then nothing was added

    def after(self, refused: Sequence[Problem] = (), notes: Sequence[str] = ()) -> Uploaded:
        """This outcome with what was refused and said before it (links, early checks)."""
        report = UploadReport(self.report.added, (*refused, *self.report.problems))
        return Uploaded(report, (*notes, *self.details), self.error)


def safe_stem(given: str) -> str:
    """A plain file name, without suffix, from an uploaded one: no folders, no leading dot,
    nothing but letters, digits and dashes ("../../x.txt" and "C:\\a\\x.md" give "x")."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", given))[-1]
    base = re.sub(r"[^\w.\- ]+", "-", base).strip(" .-_")
    stem, _, _ = base.rpartition(".") if "." in base else (base, "", "")
    stem = re.sub(r"[\s.-]+", "-", stem).strip("-")[:MAX_NAME_CHARS]
    return stem or "article"


def sniff(raw: bytes) -> str:
    """The suffix an upload is read as, judged by its content: ".pdf", ".xml" (an RSS or Atom
    feed), ".html", ".jsonl" (JSON objects, one a line), ".md" (Markdown markup) or ".txt".
    ValueError saying what it is when it is none of them."""
    document = document_suffix(raw)
    if document is not None:
        return document  # its reader checks it, as `rag index` would
    for signature, kind in SIGNATURES.items():
        if raw.startswith(signature):
            raise ValueError(f"is {kind}, not an article; upload it as {FORMATS}")
    text, _ = decode(raw)  # ValueError for NUL bytes and byte soup
    if text.lstrip()[:200].lower().startswith("<?xml"):
        raise ValueError("is XML but not an RSS or Atom feed; save the article's text as .txt")
    # A first line that is a JSON object makes it JSON lines, whose bad lines are then
    # reported one by one, as `rag index` reports them.
    first = next((line for line in text.splitlines() if line.strip()), "")
    suffix = ".jsonl" if _json_object(first) else ".md" if _MARKDOWN.search(text) else ".txt"
    check_shape(text, suffix)  # before cleaning, which the probe's files kept busy for minutes
    return suffix


def precheck(files: Sequence[tuple[str, Path]]) -> tuple[list[tuple[str, Path]], list[Problem]]:
    """The files that pass the checks needing no corpus (size, type, lines), and a Problem for
    each other: an upload is refused at once, not after another upload's build."""
    passed, problems = [], []
    for given, source in files:
        try:
            raw = _read_limited(source)
            suffix = sniff(raw)
            if suffix in DOCUMENT_SUFFIXES:  # a scan or a page with no story: said at once
                read_document(raw, suffix)
        except (OSError, ValueError) as exc:
            problems.append(Problem(given or safe_stem(given), str(exc)))
            continue
        passed.append((given, source))
    return passed, problems


def add_uploads(
    corpus: str | os.PathLike[str],
    files: Sequence[tuple[str, Path]],
    indexed: Sequence[Article] = (),
    index_dir: str | os.PathLike[str] | None = None,
) -> UploadReport:
    """Check each (name given, file) and copy the good ones into `<corpus>/uploads/`.

    A file over MAX_UPLOAD_BYTES, not text, past a limit of `rag.ingest.limits`, or with no article
    that `indexed` lacks (by text and by doc_id) is refused with the reason, and nothing of it
    is written; so is each bad line of a .jsonl, whose good lines are added.
    Names are made safe (`safe_stem`) and never replace a file: a taken name gets "-2", "-3".
    The files enter the corpus together, after a journal naming them and the generation of
    `index_dir` in use; the caller rebuilds the index, then calls `commit_uploads`, or
    `remove_uploads` when that fails (and `recover_uploads` settles a crash in between).
    """
    folder = Path(corpus) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    known = {_digest(path) for path in folder.iterdir() if path.is_file()}
    texts = {text_digest(article): article.doc_id for article in indexed}
    ids = {article.doc_id for article in indexed}
    added: list[Added] = []
    problems: list[Problem] = []
    count = 0  # articles added so far
    moves: list[tuple[Path, Path]] = []  # (staged, target): moved in together, journalled
    # Read where the corpus walk never looks (a dot folder), then moved in whole.
    with tempfile.TemporaryDirectory(prefix=".staging-", dir=folder) as staging:
        # Staged as `uploads/<name>` under its own root, so its articles get the doc_ids they
        # will have in the corpus.
        (Path(staging) / UPLOADS).mkdir()
        for given, source in files:
            label = safe_stem(given) if given else "article"
            try:
                raw = _read_limited(source)
                suffix = sniff(raw)
            except (OSError, ValueError) as exc:
                problems.append(Problem(given or label, str(exc)))
                continue
            digest = hashlib.sha256(raw).hexdigest()
            if digest in known:
                problems.append(Problem(given, "the same file is already uploaded; not added"))
                continue
            target = _free_name(folder, label, suffix, {target.stem for _, target in moves})
            staged = Path(staging, UPLOADS, target.name)
            staged.write_bytes(raw)
            read = read_file(Path(staging), staged)
            try:
                for article, _ in read.articles:
                    check_article(article)
                if count + len(read.articles) > MAX_ARTICLES:
                    raise ValueError(
                        f"would take this upload past {MAX_ARTICLES:,} articles; upload it alone"
                    )
            except ValueError as exc:
                staged.unlink()
                problems.append(Problem(given, str(exc)))
                continue
            problems += [Problem(given, p.reason, p.line) for p in read.problems]
            new = 0
            for article, _ in read.articles:
                line = _line(article)
                if text_digest(article) in texts:
                    same = texts[text_digest(article)]
                    problems.append(Problem(given, f"same text as the article {same!r}", line))
                elif article.doc_id in ids:
                    problems.append(Problem(given, f"doc_id {article.doc_id!r} is taken", line))
                else:
                    new += 1
            if not new:
                staged.unlink()
                if not read.problems and not read.articles:
                    problems.append(Problem(given, "holds no article"))
                continue
            moves.append((staged, target))
            known.add(digest)
            texts.update((text_digest(article), article.doc_id) for article, _ in read.articles)
            ids.update(article.doc_id for article, _ in read.articles)
            rel = target.relative_to(Path(corpus)).as_posix()
            added.append(Added(rel, given, new))
            count += new
        if moves:
            # Journalled before the first file enters the corpus: a crash from here on leaves
            # a record that `recover_uploads` rolls back (or confirms) at the next start.
            journal = {"before": current_generation(index_dir) if index_dir else None,
                       "files": [a.path for a in added]}  # fmt: skip
            _write_atomically(folder / JOURNAL, json.dumps(journal).encode())
            for staged, target in moves:
                os.replace(staged, target)
    return UploadReport(tuple(added), tuple(problems))


def commit_uploads(corpus: str | os.PathLike[str]) -> None:
    """The uploads' index generation is committed: they stay; their journal goes."""
    Path(corpus, UPLOADS, JOURNAL).unlink(missing_ok=True)


def recover_uploads(
    corpus: str | os.PathLike[str], index_dir: str | os.PathLike[str] | None
) -> list[str]:
    """Settle an upload that a crash interrupted, by its journal: its files stay when a new
    index generation was committed after they came in, else they leave the corpus. Lines that
    say what was done; none when there was nothing to settle."""
    folder = Path(corpus, UPLOADS)
    for leftover in folder.glob(".staging-*"):  # a killed upload's half-read files
        shutil.rmtree(leftover, ignore_errors=True)
    path = folder / JOURNAL
    try:
        journal = json.loads(path.read_text())
        before, files = journal["before"], [str(name) for name in journal["files"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        path.unlink(missing_ok=True)
        return [f"an unreadable upload journal was removed ({exc})"]
    committed = index_dir is not None and current_generation(index_dir) not in (None, before)
    listed = ", ".join(files)
    try:
        for name in [] if committed else files:
            if Path(name).parts[:1] == (UPLOADS,) and ".." not in Path(name).parts:
                Path(corpus, name).unlink(missing_ok=True)
        path.unlink()
    except OSError as exc:  # a read-only corpus: say so, and answer all the same
        return [f"an interrupted upload of {listed} cannot be settled ({exc.strerror or exc})"]
    if committed:
        return [f"an interrupted upload was indexed before it stopped; kept {listed}"]
    return [f"an interrupted upload was never indexed; took {listed} out of the corpus again"]


def remove_uploads(corpus: str | os.PathLike[str], report: UploadReport) -> None:
    """Take the files `report` added out of the corpus again (their index build failed)."""
    for item in report.added:
        Path(corpus, item.path).unlink(missing_ok=True)
    commit_uploads(corpus)  # nothing is pending any more


def _read_limited(source: Path) -> bytes:
    """The file's bytes; ValueError past MAX_UPLOAD_BYTES, before reading them all."""
    with open(source, "rb") as handle:
        raw = handle.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        megabytes = MAX_UPLOAD_BYTES // (1024 * 1024)
        raise ValueError(f"is over {megabytes} MB; split it into smaller files")
    if not raw.strip():
        raise ValueError("is empty")
    return raw


def _line(article: Article) -> int | None:
    """The line of a .jsonl an article came from (its source ends ":12"), else None."""
    _, _, line = article.source.rpartition(":")
    return int(line) if line.isdigit() else None


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _free_name(folder: Path, stem: str, suffix: str, chosen: set[str]) -> Path:
    """`folder/stem+suffix`, or with "-2", "-3"… when that is taken (by any suffix, or by a
    name `chosen` for another file of the upload)."""
    taken = {path.stem for path in folder.iterdir()} | chosen
    name, number = stem, 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}"
    return folder / (name + suffix)


def _digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
