"""The documentation site: `mkdocs build --strict` passes (a broken link or anchor, or an
undocumented public name, fails it), it has the pages the README links to, and its search works
in a real browser: open it, search "abstain", follow a result."""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import ROOT

CHROMIUM = os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGES = [
    "index",
    "getting-started",
    "asking",
    "web-ui",
    "http-api",
    "cli",
    "python-api",
    "how-it-works",
    "evaluation",
    "performance",
    "scaling-out",
    "reliability-security",
    "training",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    started = time.monotonic()
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr[-5000:]
    print(f"\nmkdocs build --strict: {time.monotonic() - started:.1f} s")
    return out


def test_the_site_builds_strict_with_every_page(site: Path) -> None:
    for page in PAGES:
        assert (site / f"{page}.html").is_file(), page
    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\(docs/([\w-]+)\.md", readme):
        assert link in PAGES, f"the README links docs/{link}.md, which is not in the site"
    cli = (site / "cli.html").read_text()
    from rag.cli import build_parser

    for flag in ("--follow-up", "--as-built", "--read-only", "--calibrate", "--cluster"):
        assert flag in cli, f"the CLI reference lists {flag}"
    assert build_parser().prog == "rag"
    assert (site / "openapi.json").is_file()
    api = (site / "python-api.html").read_text()
    for name in ("Assistant", "Answer", "Evidence", "ShortAnswer", "Scope", "Conversation"):
        assert f">{name}<" in api or f'.{name}"' in api, name


def test_an_undocumented_public_name_fails_the_build(tmp_path: Path) -> None:
    """The API check names what lacks a docstring (here a stand-in class without one)."""
    sys.path.insert(0, str(ROOT / "docs" / "hooks"))
    try:
        import api_check
    finally:
        sys.path.pop(0)
    module = type(sys)("undocumented_example")
    exec("class Thing:\n    '''A thing.'''\n    def act(self):\n        pass\n", module.__dict__)
    sys.modules["undocumented_example"] = module
    try:
        assert api_check.undocumented("undocumented_example.Thing") == [
            "undocumented_example.Thing.act"
        ]
        assert api_check.undocumented("rag.types.Answer") == []
    finally:
        del sys.modules["undocumented_example"]


@pytest.mark.browser
def test_searching_the_site_finds_and_opens_a_page(site: Path) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("RAG_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM}; .ci/run installs it with apt-get")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url + "index.html")
            page.keyboard.press("/")  # Material's search shortcut
            expect(page.locator("input.md-search__input")).to_be_focused()
            # the index loads in a worker; typed before it is ready, a query is not run
            meta = page.locator(".md-search-result__meta")
            expect(meta).to_have_text("Type to start searching", timeout=30_000)
            page.keyboard.type("abstain", delay=20)
            results = page.locator(".md-search-result__item a")
            expect(results.first).to_be_visible(timeout=30_000)
            assert results.count() >= 3
            target = results.first.get_attribute("href")
            results.first.click()
            page.wait_for_load_state()
            assert page.url != url + "index.html" and target.split("#")[0] in page.url
            assert "abstain" in page.locator("article").inner_text().lower()
            browser.close()
    finally:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass
