"""Web pages, PDFs and feeds read by their libraries: the story, its metadata, and refusals."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from rag.ingest.corpus import load_corpus
from rag.ingest.documents import document_suffix, read_document
from rag.ingest.feed import read_feed
from rag.ingest.html import read_html
from rag.ingest.pdf import read_pdf
from rag.ingest.text import split_sentences
from tests.conftest import FIXTURES
from tests.ingest.pdfs import HEADER, bomb_pdf, report_pdf, scanned_pdf

DOCUMENTS = FIXTURES / "documents"
PAGES = sorted(DOCUMENTS.glob("*.html"))


def sentences(text: str) -> list[str]:
    return [" ".join(text[a:b].split()) for a, b in split_sentences(text)]


def extraction(page: Path) -> tuple[float, float]:
    """(share of the story's sentences kept, share of kept sentences that are not the story's)
    of a fixture page against its `.story.txt`, one sentence a line."""
    story = set(page.with_suffix(".story.txt").read_text().splitlines())
    kept = sentences(read_html(page.read_bytes()).text)
    headline = read_html(page.read_bytes()).title
    kept = [s for s in kept if s != headline]  # the headline is the title, not boilerplate
    found = sum(s in kept for s in story) / len(story)
    boilerplate = sum(s not in story for s in kept) / max(1, len(kept))
    return found, boilerplate


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_web_page_gives_its_story_without_navigation_comments_or_ads(page: Path) -> None:
    found, boilerplate = extraction(page)
    assert found >= 0.95 and boilerplate < 0.05, (found, boilerplate)
    text = read_html(page.read_bytes()).text
    for noise in ("cookie", "Subscribe", "Related stories", "Comments", "Copyright", "Share this",
                  "Sign up", "Advertisement", "Read more", "Privacy"):  # fmt: skip
        assert noise.lower() not in text.lower()


def test_a_web_page_gives_its_title_site_author_date_and_address() -> None:
    found = read_html((DOCUMENTS / "chengdu-exports.html").read_bytes())
    assert (found.title, found.publisher, found.author, found.published) == (
        "Chengdu cross-border e-commerce exports jump 34 percent",
        "Sichuan Business Daily",
        "Li Wen",
        "2024-08-03",
    )
    assert found.url == "https://news.example.com/business/2024/08/03/chengdu-exports.html"
    other = read_html((DOCUMENTS / "guiyang-data-centres.html").read_bytes(), "https://x.org/a")
    assert (other.publisher, other.author, other.published) == (
        "Southwest Tech Weekly",
        "Zhou Ping",
        "2024-06-21",
    )
    assert other.url == "https://x.org/a"  # no canonical address: where it was fetched from


def test_a_pdf_gives_paragraphs_without_its_running_header_and_footer(tmp_path: Path) -> None:
    found = read_pdf(report_pdf(tmp_path / "bulletin.pdf").read_bytes())
    paragraphs = found.text.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].endswith("according to the city's commerce bureau.")  # "com-\nmerce"
    assert "rural cooperatives join" in paragraphs[2]  # "coopera-\ntives", over a page's end
    assert "Cross-border sellers" in paragraphs[2]  # a compound keeps its own dash
    assert HEADER not in found.text and "Page 1" not in found.text
    assert found.notes == (
        f"removed running header {HEADER!r} from 2 pages",
        "removed running footer 'Page 1 of 2' from 2 pages",
    )
    assert (found.title, found.author, found.published) == (
        "Hangzhou live-streaming report",
        "Hangzhou Commerce Bureau",
        "2024-09-12",
    )


def test_feeds_give_each_entry_with_its_metadata_full_text_or_summary() -> None:
    rss = read_feed((DOCUMENTS / "wuhan-retail.rss").read_bytes())
    assert [(e.title, e.author, e.published, e.summary_only) for e in rss] == [
        ("Wuhan online retail sales rise 11 percent", "Chen Jing", "2024-07-16T08:00:00", False),
        ("Yichang launches rural e-commerce centres", "Wang Lei", "2024-07-22T10:15:00", True),
    ]
    assert {e.publisher for e in rss} == {"Hubei Economic Review"}
    assert rss[0].url == "https://hubei.example.org/2024/07/wuhan-online-retail"
    assert rss[0].text.split("\n\n")[1].startswith("Sales of physical goods online")
    assert rss[1].notes == ("summary only: the feed does not carry the full text",)
    atom = read_feed((DOCUMENTS / "shenzhen-logistics.atom").read_bytes())
    assert [(e.title, e.author, e.published, e.summary_only) for e in atom] == [
        ("Shenzhen parcel volume passes 6 billion", "Huang Min", "2024-10-01T09:00:00", False),
        ("Dongguan factories turn to live-streaming", "Lin Qiao", "2024-09-18T15:30:00", False),
    ]
    assert "6.3 billion parcels" in atom[0].text and "<p>" not in atom[0].text


def test_a_document_is_known_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    assert document_suffix(report_pdf(tmp_path / "a.txt").read_bytes()) == ".pdf"
    assert document_suffix((DOCUMENTS / "wuhan-retail.rss").read_bytes()) == ".xml"
    assert document_suffix((DOCUMENTS / "shenzhen-logistics.atom").read_bytes()) == ".xml"
    assert document_suffix((DOCUMENTS / "chengdu-exports.html").read_bytes()) == ".html"
    assert document_suffix(b"Plain words.") is None
    assert document_suffix(b"{}", "application/pdf") == ".pdf"  # a server's word, last


def test_a_corpus_of_every_format_reports_how_each_file_was_read(tmp_path: Path) -> None:
    for path in DOCUMENTS.glob("*.*"):
        if path.suffix in (".html", ".rss", ".atom"):
            shutil.copy(path, tmp_path / path.name)
    report_pdf(tmp_path / "hangzhou.pdf")
    corpus = load_corpus(tmp_path)
    assert [a.doc_id for a in corpus.articles] == [
        "chengdu-exports", "guiyang-data-centres", "hangzhou", "shenzhen-logistics/1",
        "shenzhen-logistics/2", "wuhan-retail/1", "wuhan-retail/2",
    ]  # fmt: skip
    readers = {r.source: (r.reader, r.notes) for r in corpus.reports}
    headline = "Chengdu cross-border e-commerce exports jump 34 percent"
    assert readers["chengdu-exports.html"] == (
        "trafilatura",
        (f"removed headline (the page's title): {headline}",),
    )
    assert readers["hangzhou.pdf"][0] == "pypdf" and "no publisher found" not in readers
    assert readers["wuhan-retail.rss:2"] == (
        "feedparser",
        ("summary only: the feed does not carry the full text",),
    )
    summary = next(a for a in corpus.articles if a.doc_id == "wuhan-retail/2")
    assert summary.summary_only and summary.source == "wuhan-retail.rss:2"
    chengdu = next(a for a in corpus.articles if a.doc_id == "chengdu-exports")
    assert chengdu.title == headline and not chengdu.text.startswith(headline)
    assert not corpus.problems


def test_the_same_story_as_a_page_and_as_text_is_indexed_once(tmp_path: Path) -> None:
    page = DOCUMENTS / "chengdu-exports.html"
    shutil.copy(page, tmp_path / "chengdu.html")
    (tmp_path / "chengdu.txt").write_text(page.with_suffix(".story.txt").read_text())
    corpus = load_corpus(tmp_path)
    assert [a.doc_id for a in corpus.articles] == ["chengdu"]
    assert [str(p) for p in corpus.problems] == [
        "chengdu.txt: same text as 'chengdu'; indexed once"
    ]


def hostile(tmp_path: Path) -> dict[str, Path]:
    """Files that must each be refused in one line, quickly."""
    files = {
        "huge.html": b"<html><body>" + b"<p>Words of a page.</p>" * (50 * 2**20 // 23) + b"</body>",
        "deep.html": b"<html><body>" + b"<div>" * 5_000 + b"story" + b"</div>" * 5_000,
        "app.html": b'<html><head><title>Loading</title><script src="/app.js"></script></head>'
        b'<body><div id="app"></div></body></html>',
        "many.xml": b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + b"".join(
            b"<item><title>%d</title><description>Entry %d.</description></item>" % (n, n)
            for n in range(10_000)
        )  # fmt: skip
        + b"</channel></rss>",
        "plain.xml": b'<?xml version="1.0"?><config><value>1</value></config>',
    }
    paths = {name: tmp_path / name for name in files}
    for name, data in files.items():
        paths[name].write_bytes(data)
    paths["bomb.pdf"] = bomb_pdf(tmp_path / "bomb.pdf")
    paths["locked.pdf"] = report_pdf(tmp_path / "locked.pdf", password="secret")
    paths["scan.pdf"] = scanned_pdf(tmp_path / "scan.pdf")
    return paths


REFUSALS = {
    "huge.html": r"is 50 MB, over 20 MB; not an article",
    "deep.html": r"nests its elements over 255 levels deep",
    "app.html": r"holds no article text that trafilatura could find",
    "many.xml": r"has 10,000 entries, over 2,000",
    "plain.xml": r"is not an RSS or Atom feed",
    "bomb.pdf": r"inflates far past its size when read \(a zip bomb\?\)",
    "locked.pdf": r"is encrypted with a password",
    "scan.pdf": r"has no text layer \(a scanned image\?\); run OCR",
}


def test_hostile_documents_are_each_refused_in_one_line(tmp_path: Path) -> None:
    for name, path in hostile(tmp_path).items():
        started = time.perf_counter()
        with pytest.raises(ValueError, match=REFUSALS[name]) as refused:
            read_document(path.read_bytes(), path.suffix)
        assert "\n" not in str(refused.value)
        assert time.perf_counter() - started < 30, name  # no minutes of parsing


def test_a_corpus_with_hostile_documents_keeps_its_articles_and_says_why(tmp_path: Path) -> None:
    hostile(tmp_path)
    shutil.copy(DOCUMENTS / "chengdu-exports.html", tmp_path)
    corpus = load_corpus(tmp_path)
    assert [a.doc_id for a in corpus.articles] == ["chengdu-exports"]
    said = {p.path: p.reason for p in corpus.problems}
    assert sorted(said) == sorted(REFUSALS)
    for name, reason in said.items():
        assert re.search(REFUSALS[name], reason), (name, reason)


def test_a_page_saved_under_a_text_name_is_read_as_a_page(tmp_path: Path) -> None:
    shutil.copy(DOCUMENTS / "chengdu-exports.html", tmp_path / "saved.txt")
    (tmp_path / "quotes.jsonl").write_text(
        '{"id": "q", "text": "<html> is how a page begins, the course said on Friday."}\n'
    )
    corpus = load_corpus(tmp_path)
    saved = next(a for a in corpus.articles if a.doc_id == "saved")
    assert saved.author == "Li Wen" and "<" not in saved.text
    assert next(r for r in corpus.reports if r.doc_id == "saved").reader == "trafilatura"
    quoted = next(a for a in corpus.articles if a.doc_id == "q")  # JSON that holds a tag: text
    assert quoted.text.startswith("<html> is how a page begins")
