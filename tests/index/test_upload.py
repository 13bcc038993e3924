"""Uploads as hostile input: names, sizes, types by content, faults reported, corpus kept whole."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.index.upload import MAX_UPLOAD_BYTES, UPLOADS, add_uploads, safe_stem, sniff
from rag.ingest.limits import MAX_RECORDS
from ui.library import Library

from ..conftest import CORPUS

FIXTURES = Path(__file__).parents[1] / "fixtures" / "uploads"
GUANGZHOU = "How much did Guangzhou's online retail sales rise in July?"


def fixture_files(*names: str) -> list[tuple[str, Path]]:
    return [(name, FIXTURES / name) for name in names]


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize(
    ("given", "stem"),
    [
        ("../../x.txt", "x"),
        ("..\\..\\windows\\x.md", "x"),
        ("/etc/passwd", "passwd"),
        (".bashrc", "bashrc"),
        ("..", "article"),
        ("", "article"),
        ("a b  c.d.txt", "a-b-c-d"),
        ("日本語.txt", "日本語"),
        ("evil\u202egnp.txt", "evil-gnp"),  # a right-to-left override
        ("x" * 300 + ".txt", "x" * 80),
    ],
)
def test_upload_names_lose_folders_dots_and_odd_characters(given: str, stem: str) -> None:
    assert safe_stem(given) == stem


def test_the_type_is_judged_by_content_not_by_the_name() -> None:
    assert sniff((FIXTURES / "hainan-briefs.jsonl").read_bytes()) == ".jsonl"
    assert sniff((FIXTURES / "guangzhou-retail.md").read_bytes()) == ".md"
    assert sniff(b"Plain words.\n\nMore words.") == ".txt"
    for name, says in [
        ("screenshot.txt", "is a PNG image"),
    ]:
        with pytest.raises(ValueError, match=says):
            sniff((FIXTURES / name).read_bytes())
    # A page or a PDF is read by its own library, whatever its name says.
    assert sniff((FIXTURES / "report.md").read_bytes()) == ".pdf"
    assert sniff((FIXTURES / "saved-page.txt").read_bytes()) == ".html"
    assert sniff("Plain words.".encode("utf-16")) == ".txt"  # Windows saves with a BOM
    with pytest.raises(ValueError, match="NUL bytes"):
        sniff("text".encode("utf-16-le"))  # no BOM: nothing says it is text


def test_good_files_are_added_bad_ones_and_lines_are_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (MAX_UPLOAD_BYTES // 5 + 1))
    files = fixture_files(
        "guangzhou-retail.md", "hainan-briefs.jsonl", "screenshot.txt", "report.md",
        "saved-page.txt",
    ) + [("big.txt", big), ("../../../escape.txt", FIXTURES / "guangzhou-retail.md")]  # fmt: skip
    report = add_uploads(corpus, files)
    assert [(a.given, a.path, a.articles) for a in report.added] == [
        ("guangzhou-retail.md", "uploads/guangzhou-retail.md", 1),
        ("hainan-briefs.jsonl", "uploads/hainan-briefs.jsonl", 1),
    ]
    reasons = [str(problem) for problem in report.problems]
    assert reasons == [
        "hainan-briefs.jsonl:2: not valid JSON (Expecting value)",
        "hainan-briefs.jsonl:3: empty text",
        "screenshot.txt: is a PNG image, not an article; upload it as .txt, .md, .jsonl, "
        ".html, .pdf or an RSS/Atom feed",
        "report.md: is not a readable PDF (PdfStreamError: Stream has ended unexpectedly)",
        "saved-page.txt: holds no article text that trafilatura could find (a page of links, or "
        "one that needs JavaScript?); save the story's own page, or its text as .txt",
        "big.txt: is over 10 MB; split it into smaller files",
        "../../../escape.txt: the same file is already uploaded; not added",
    ]
    # Nothing was written anywhere but the uploads folder, and no staging is left behind.
    # Until the caller commits them after indexing, a journal names them (`recover_uploads`).
    assert tree(tmp_path) == [
        "big.txt", "corpus", "corpus/uploads", "corpus/uploads/.pending.json",
        "corpus/uploads/guangzhou-retail.md", "corpus/uploads/hainan-briefs.jsonl",
    ]  # fmt: skip
    journal = json.loads((corpus / UPLOADS / ".pending.json").read_text())
    assert journal == {"before": None, "files": [a.path for a in report.added]}


def test_a_hostile_name_lands_inside_the_uploads_folder_and_never_replaces_a_file(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first = tmp_path / "first.txt"
    first.write_text("Shenzhen exports grew 9 percent in the first quarter of 2024.")
    second = tmp_path / "second.txt"
    second.write_text("Shenzhen imports fell 3 percent in the first quarter of 2024.")
    report = add_uploads(corpus, [("../../x.txt", first), ("../x.md", second)])
    assert [a.path for a in report.added] == ["uploads/x.txt", "uploads/x-2.txt"]
    assert tree(tmp_path) == [
        "corpus", "corpus/uploads", "corpus/uploads/.pending.json", "corpus/uploads/x-2.txt",
        "corpus/uploads/x.txt", "first.txt", "second.txt",
    ]  # fmt: skip


@pytest.fixture
def library(embedder, tmp_path: Path) -> Library:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    assistant = Assistant.from_corpus(corpus, tmp_path / "index", embedder=embedder)
    return Library(assistant, corpus, tmp_path / "index")


def test_an_upload_is_indexed_incrementally_and_answered_with_its_metadata(library) -> None:
    before = library.assistant
    assert before.ask(GUANGZHOU).abstained or "Guangzhou" not in before.ask(GUANGZHOU).text
    uploaded = library.add(fixture_files("guangzhou-retail.md", "screenshot.txt"))
    assert [a.path for a in uploaded.report.added] == ["uploads/guangzhou-retail.md"]
    assert [str(p) for p in uploaded.report.problems] == [
        "screenshot.txt: is a PNG image, not an article; upload it as .txt, .md, .jsonl, "
        ".html, .pdf or an RSS/Atom feed"
    ]
    # The same fault report as `rag index`: what cleaning removed from the new article.
    details = "\n".join(uploaded.details)
    assert "removed cookie notice" in details and "removed newsletter" in details
    after = library.assistant
    assert after is not before and len(after.articles) == len(before.articles) + 1
    report = after.build_report
    assert report.rebuilt and 0 < report.encoded < report.reused  # only the new texts
    answer = after.ask(GUANGZHOU)
    first = answer.evidence[0]
    assert not answer.abstained and "7.4 percent" in first.text and "**" not in first.text
    assert (first.publisher, first.published) == ("Pearl River Business Weekly", "2024-08-03")
    assert first.doc_id == "uploads/guangzhou-retail"


def test_bad_files_and_a_failed_build_leave_the_corpus_as_it_was(library, monkeypatch) -> None:
    corpus = library.corpus
    files_before, assistant = tree(corpus), library.assistant
    refused = library.add(fixture_files("screenshot.txt", "report.md", "saved-page.txt"))
    assert not refused.report.added and len(refused.report.problems) == 3
    assert tree(corpus) == files_before  # refused before the uploads folder is even made
    # A copy of an article already indexed is not added a second time.
    copy = library.add([("again.txt", CORPUS / "001_3888668b42d211bb.txt")])
    assert "same text as the article '001_3888668b42d211bb'" in str(copy.report.problems[0])

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Assistant, "reindexed", fail)
    failed = library.add(fixture_files("guangzhou-retail.md"))
    assert failed.error.startswith("the index could not be rebuilt with them (disk full)")
    assert not failed.report.added
    assert tree(corpus) == [*files_before, UPLOADS] and library.assistant is assistant


def test_files_past_a_limit_are_refused_before_they_are_cleaned_or_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()

    def write(name: str, content: str) -> tuple[str, Path]:
        (tmp_path / name).write_text(content)
        return name, tmp_path / name

    def records(count: int, verb: str = "rose") -> str:
        rows = ({"id": f"r{n}", "text": f"Exports {verb} {n} percent."} for n in range(count))
        return "".join(json.dumps(row) + "\n" for row in rows)

    files = [
        write("lines.txt", "ab\n" * 1_000_000),  # the probe's: 7 minutes, 2.7 GB before
        write("line.txt", "word " * 1_000_000),  # the probe's single 5 MB line
        write("records.jsonl", records(MAX_RECORDS + 1)),
        write("sentences.txt", "Title\n\n" + "Sales rose. " * 1_600 + "\n" + "Sales fell. " * 500),
        write("run-on.jsonl", json.dumps({"id": "x", "text": "and " * 1_500}) + "\n"),
        write("first.jsonl", records(1_500)),
        write("second.jsonl", records(1_500, "fell")),
    ]
    report = add_uploads(corpus, files)
    assert [a.path for a in report.added] == ["uploads/first.jsonl"]
    assert [str(p) for p in report.problems] == [
        "lines.txt: has 1,000,000 lines, over 5,000; split it into articles",
        "line.txt: line 1 has 5,000,000 characters, over 20,000; break it into paragraphs",
        f"records.jsonl: has {MAX_RECORDS + 1:,} records, over {MAX_RECORDS:,}; split it into "
        "smaller files",
        "sentences.txt: uploads/sentences has 2,101 sentences, over 2,000; split it into "
        "several articles",
        "run-on.jsonl: x has a sentence of 5,999 characters, over 5,000; is it running text?",
        "second.jsonl: would take this upload past 2,000 articles; upload it alone",
    ]
    assert tree(corpus) == ["uploads", "uploads/.pending.json", "uploads/first.jsonl"]


def test_a_refusal_never_waits_for_another_uploads_build(fake_embedder, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    assistant = Assistant.from_corpus(corpus, tmp_path / "index", embedder=fake_embedder)
    library = Library(assistant, corpus, tmp_path / "index")
    done: list = []
    with library._lock:  # another upload's build, however long it takes
        worker = threading.Thread(
            target=lambda: done.append(library.add(fixture_files("screenshot.txt"))),
            daemon=True,
        )
        worker.start()
        worker.join(60)
        assert done, "the refusal waited for the build"
    assert [str(p) for p in done[0].report.problems] == [
        "screenshot.txt: is a PNG image, not an article; upload it as .txt, .md, .jsonl, "
        ".html, .pdf or an RSS/Atom feed"
    ]
