"""Links fetched from a real HTTP server on 127.0.0.1, started here: added, cited, or refused."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.ingest import fetch as fetching
from rag.ingest.fetch import fetch
from tests.conftest import CORPUS, FIXTURES
from tests.ingest.site import serving
from ui.library import Library

DOCUMENTS = FIXTURES / "documents"
PRIVATE = "leads to a private or local address"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("site")) as url:
        yield url


def test_a_link_is_fetched_after_redirects_with_its_type(site: str) -> None:
    page = fetch(f"{site}/moved", private=True)
    assert page.url == f"{site}/chengdu-exports.html" and page.content_type == "text/html"
    assert b"Chengdu cross-border" in page.data


@pytest.mark.parametrize(
    ("path", "private", "says"),
    [
        ("/chengdu-exports.html", False, PRIVATE + r" \(127\.0\.0\.1 is 127\.0\.0\.1\)"),
        ("/missing.html", True, "answered HTTP 404, not a page"),
    ],
)
def test_a_link_that_cannot_be_fetched_says_why_in_one_line(
    site: str, path: str, private: bool, says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        fetch(site + path, private=private)


@pytest.mark.parametrize("url", ["ftp://example.com/a", "file:///etc/passwd", "javascript:1"])
def test_only_http_links_are_fetched(url: str) -> None:
    with pytest.raises(ValueError, match=r"is not an http\(s\) link"):
        fetch(url, private=True)


def test_a_link_that_does_not_answer_is_given_up_at_its_timeout(site: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match="did not answer within 1 s"):
        fetch(f"{site}/slow", private=True, timeout=1)
    # trafilatura would retry the read for most of a minute; the fetch stops at its deadline.
    assert time.perf_counter() - started < 3


def test_each_connection_is_vetted_not_only_the_link_as_given(site: str, monkeypatch) -> None:
    # Without the check of the link's own host, trafilatura's check of each connection's peer
    # (the one a redirect makes too) still refuses a local address.
    monkeypatch.setattr(fetching, "_refuse_private", lambda host: None)
    with pytest.raises(ValueError, match=PRIVATE):
        fetch(f"{site}/moved", private=False)


@pytest.fixture
def library(embedder, tmp_path: Path) -> Library:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    assistant = Assistant.from_corpus(corpus, tmp_path / "index", embedder=embedder)
    return Library(assistant, corpus, tmp_path / "index", fetch_private=True)


def test_links_are_added_and_cited_with_their_address(library: Library, site: str) -> None:
    before = len(library.assistant.articles)
    done = library.add(
        [],
        [
            f"{site}/chengdu-exports.html",
            f"{site}/wuhan-retail.rss",
            f"{site}/hangzhou.pdf",
            f"{site}/missing.html",
        ],  # fmt: skip
    )
    assert [(a.given, a.articles) for a in done.report.added] == [
        (f"{site}/chengdu-exports.html", 1),
        (f"{site}/wuhan-retail.rss", 2),
        (f"{site}/hangzhou.pdf", 1),
    ]
    assert [str(p) for p in done.report.problems] == [
        f"{site}/missing.html: answered HTTP 404, not a page"
    ]
    assert (
        f"{site}/chengdu-exports.html: read with trafilatura; removed headline (the page's "
        "title): Chengdu cross-border e-commerce exports jump 34 percent" in done.details
    )
    assert f"{site}/wuhan-retail.rss: read with feedparser (2 entries); summary only: " \
        "the feed does not carry the full text (1 of 2)" in done.details  # fmt: skip
    assert len(library.assistant.articles) == before + 4
    answer = library.assistant.ask("How much did Chengdu's cross-border e-commerce exports grow?")
    assert answer.short_answer is not None and answer.short_answer.text == "34 percent"
    cited = answer.evidence[0]
    assert cited.url == "https://news.example.com/business/2024/08/03/chengdu-exports.html"
    assert (cited.author, cited.publisher, cited.published) == (
        "Li Wen",
        "Sichuan Business Daily",
        "2024-08-03",
    )
    pdf = library.assistant.ask("What were live-streaming sales in Hangzhou?").evidence[0]
    assert pdf.url == f"{site}/hangzhou.pdf"  # a PDF names no address: where it came from
    assert pdf.title == "Hangzhou live-streaming report"


def test_a_server_refuses_local_links_and_keeps_its_index(library: Library, site: str) -> None:
    library.fetch_private = False  # as `rag serve` runs without --fetch-private
    before = library.assistant
    done = library.add([], [f"{site}/chengdu-exports.html", f"{site}/moved"])
    assert not done.report.added and len(done.report.problems) == 2
    assert all(PRIVATE in p.reason and "--fetch-private" in p.reason for p in done.report.problems)
    assert library.assistant is before
    assert not list((library.corpus / "uploads").glob("*"))


def test_rag_add_takes_files_and_links(site: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "add",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "index"),
            str(DOCUMENTS / "guiyang-data-centres.html"),
            f"{site}/shenzhen-logistics.atom",
            "ftp://example.com/x",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "added guiyang-data-centres.html as uploads/guiyang-data-centres.html" in out
    assert f"added {site}/shenzhen-logistics.atom as uploads/shenzhen-logistics.jsonl" in out
    assert "not added: ftp://example.com/x: is not an http(s) link" in out
    assert "uploads/guiyang-data-centres.html: read with trafilatura" in out
    assert "3 articles added" in out
    asked = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "ask",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "index"),
            "How many parcels did Shenzhen handle?",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Answer: 6.3 billion" in asked.stdout
    assert "Huang Min, Pearl River Delta Trade Wire, 2024-10-01" in asked.stdout
    assert "<https://prd-trade.example.net/2024/10/shenzhen-parcels>" in asked.stdout


def test_the_python_api_adds_files_and_links(embedder, site: str, tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    before = Assistant.from_corpus(corpus, index, embedder=embedder)
    sources = [DOCUMENTS / "guiyang-data-centres.html", f"{site}/wuhan-retail.rss", "ftp://x/y"]
    after, done = before.add(sources, corpus, index)
    assert [(a.path, a.articles) for a in done.report.added] == [
        ("uploads/guiyang-data-centres.html", 1),
        ("uploads/wuhan-retail.jsonl", 2),
    ]
    assert [str(p) for p in done.report.problems] == [
        "ftp://x/y: is not an http(s) link; give one that starts with https://"
    ]
    assert len(after.articles) == len(before.articles) + 3  # `before` answers as it did
    answer = after.ask("By how much did the computing capacity of Guiyang's data centres grow?")
    assert answer.short_answer is not None and answer.short_answer.text == "45 percent"
    assert answer.evidence[0].author == "Zhou Ping"
    again, repeated = after.add([DOCUMENTS / "guiyang-data-centres.html"], corpus, index)
    assert again is after and not repeated.report.added  # the same file: nothing to rebuild
    assert "already uploaded" in str(repeated.report.problems[0])
