"""POST /api/upload on a real server: files and links in every format, refusals, read-only."""

from __future__ import annotations

import shutil

import httpx
import pytest

from rag.assistant import Assistant
from tests.ingest.pdfs import report_pdf, scanned_pdf
from tests.ingest.site import serving
from ui.app import launch

from .conftest import CORPUS, FIXTURES

DOCUMENTS = FIXTURES / "documents"


@pytest.fixture(scope="module")
def served(embedder, tmp_path_factory):
    """A server taking uploads and (with --fetch-private) links from a site on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("api-upload")
    corpus, index = folder / "corpus", folder / "index"
    shutil.copytree(CORPUS, corpus)
    assistant = Assistant.from_corpus(corpus, index, embedder=embedder)
    (folder / "site").mkdir()
    with serving(folder / "site") as site:
        running, url = launch(assistant, port=0, block=False, quiet=True, corpus=corpus,
                              index_dir=index, fetch_private=True)  # fmt: skip
        yield url, site, corpus, folder
        running.close()


def test_files_and_links_are_added_and_listed_with_their_metadata(served) -> None:
    url, site, corpus, folder = served
    pdf = report_pdf(folder / "bulletin.pdf")
    scan = scanned_pdf(folder / "scan.pdf")
    files = [
        ("files", ("chengdu.html", (DOCUMENTS / "chengdu-exports.html").read_bytes())),
        ("files", ("bulletin.pdf", pdf.read_bytes())),
        ("files", ("scan.pdf", scan.read_bytes())),
    ]
    links = {"links": [f"{site}/shenzhen-logistics.atom", "ftp://example.com/feed"]}
    response = httpx.post(url + "api/upload", files=files, data=links, timeout=300)
    assert response.status_code == 200, response.text
    done = response.json()
    assert [(a["given"], a["path"], a["articles"]) for a in done["added"]] == [
        ("chengdu.html", "uploads/chengdu.html", 1),
        ("bulletin.pdf", "uploads/bulletin.pdf", 1),
        (f"{site}/shenzhen-logistics.atom", "uploads/shenzhen-logistics.jsonl", 2),
    ]
    assert done["refused"] == [
        "scan.pdf: has no text layer (a scanned image?); run OCR on it (ocrmypdf) or add its "
        "text as .txt",
        "ftp://example.com/feed: is not an http(s) link; give one that starts with https://",
    ]
    assert "uploads/bulletin.pdf: read with pypdf; removed running header" in " ".join(
        done["details"]
    )
    assert done["error"] == "" and not (corpus / "uploads" / "scan.pdf").exists()
    listed = {a["doc_id"]: a for a in httpx.get(url + "api/articles").json()["articles"]}
    chengdu = listed["uploads/chengdu"]
    assert (chengdu["author"], chengdu["publisher"], chengdu["published"]) == (
        "Li Wen",
        "Sichuan Business Daily",
        "2024-08-03",
    )
    assert chengdu["url"] == "https://news.example.com/business/2024/08/03/chengdu-exports.html"
    parcels = next(a for a in listed.values() if a["title"].startswith("Shenzhen parcel"))
    assert parcels["url"] == "https://prd-trade.example.net/2024/10/shenzhen-parcels"
    assert parcels["summary_only"] is False
    answer = httpx.post(
        url + "api/ask", json={"question": "How many parcels did Shenzhen handle?"}, timeout=60
    ).json()
    assert answer["short_answer"]["text"] == "6.3 billion"
    assert answer["evidence"][0]["author"] == "Huang Min"


def test_an_upload_with_nothing_in_it_says_what_to_send(served) -> None:
    response = httpx.post(url := served[0] + "api/upload", data={"links": [""]}, timeout=60)
    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "message": "send article files (form field `files`) or links (`links`)",
    }
    assert httpx.get(url.replace("upload", "health")).status_code == 200


def test_a_read_only_server_refuses_uploads(assistant) -> None:
    running, url = launch(assistant, port=0, block=False, quiet=True)
    try:
        response = httpx.post(url + "api/upload", data={"links": ["https://example.com/a"]})
        assert response.status_code == 403
        assert "does not take uploads" in response.json()["message"]
    finally:
        running.close()
