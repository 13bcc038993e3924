"""Browser tests of the Figures tab: filters, chart, sentences, sorting, CSV, axe, an upload."""

from __future__ import annotations

import csv
import io
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from rag.answer.timeref import period_label
from ui import app as ui

from . import test_ui_browser as browsing

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
XINJIANG, YICHANG = browsing.XINJIANG, browsing.YICHANG
ABOUT = "online retail sales"
YICHANG_SENTENCE = "Online sales grew by 20% year-on-year during this period."
SHOTS = ROOT / "docs" / "img"  # committed; refreshed with RAG_UPDATE_SCREENSHOT=1


@pytest.fixture(scope="module")
def chromium():
    if not Path(browsing.CHROMIUM).exists():
        if os.environ.get("RAG_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {browsing.CHROMIUM}; .ci/run installs it with apt-get")
        pytest.skip(f"no Chromium at {browsing.CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=browsing.CHROMIUM, args=browsing.CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def figures_server(assistant):
    app, url = ui.launch(assistant, port=0, block=False, quiet=True)
    yield url
    app.close()


def open_figures(chromium, url: str, width: int):
    """The page at `width`, on its Figures tab, filtered to growth of online retail sales."""
    from playwright.sync_api import expect

    page = browsing.open_page(chromium, url)
    page.set_viewport_size({"width": width, "height": 900})
    page.get_by_role("tab", name="Figures").click()
    page.locator("#rag-fig-measure").get_by_text("Growth", exact=True).click()
    page.get_by_label("About (what it is a figure of)").fill(ABOUT)
    expect(page.locator("#rag-figures .rag-fig-count")).to_contain_text(f"about “{ABOUT}”")
    return page


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("device", browsing.WIDTHS)
def test_the_figures_tab_filters_charts_sorts_and_downloads(
    chromium, figures_server, assistant, device
) -> None:
    from playwright.sync_api import expect

    width = browsing.WIDTHS[device]
    expected = assistant.figures(measure="growth", about=ABOUT)
    page = open_figures(chromium, figures_server, width)
    try:
        tab = page.locator("#rag-figures")
        expect(tab.locator(".rag-fig-count")).to_contain_text(f"{len(expected)} figures of growth")
        rows = tab.locator(".rag-fig-table tbody tr")
        expect(rows).to_have_count(len(expected))
        xinjiang = rows.filter(has_text="15 percent").filter(has_text="Xinjiang")
        expect(xinjiang).to_have_count(1)
        expect(xinjiang).to_contain_text("H1 2024")
        yichang = rows.filter(has_text="20%")
        expect(yichang).to_contain_text("Livestreaming fuels new growth in Yichang")

        # Percent and percentage points never share a chart; each bar is labelled as written.
        percent = tab.locator('.rag-chart[data-measure=growth][data-unit="percent"]')
        points = tab.locator('.rag-chart[data-unit="percentage points"]')
        values = percent.locator(".rag-bar-value")
        expect(values.filter(has_text="15 percent")).to_have_count(1)
        expect(values.filter(has_text="20%")).to_have_count(1)
        in_points = [r for r in expected if r.unit == "percentage points"]
        expect(points.locator(".rag-bar-value")).to_have_count(len(in_points))
        expect(points).not_to_contain_text("15 percent")
        # Yichang's 20%, under its own place and period, or "not stated" (its sentence names
        # neither): never one borrowed.
        twenty = page.locator(".rag-bar-value", has_text="20%")
        bar = percent.locator(".rag-bar").filter(has=twenty)
        group = percent.locator(".rag-chart-group").filter(has=twenty)
        record = next(r for r in expected if r.value == "20%" and r.doc_id == YICHANG)
        where = f"{record.place or 'place not stated'} · "
        where += period_label(record.period) or "period not stated"
        expect(group.locator(".rag-chart-where")).to_have_text(where)
        # A bar opens onto its sentence, in its paragraph, with its citation.
        source = bar.locator(".rag-fig-source")
        expect(source).to_be_hidden()
        bar.locator("summary").click()
        expect(source.locator("mark.rag-cited")).to_have_text(YICHANG_SENTENCE)
        expect(source.locator("mark.rag-short-answer")).to_have_text("20%")
        expect(source.locator(".rag-fig-cite")).to_contain_text("Yichang Three Gorges")

        # Sorted by value, largest first (a second click), and the CSV holds the rows shown,
        # in the order shown, as `rag figures --format csv` writes them.
        value = tab.locator(".rag-fig-table th").first
        value.locator("button").click()
        expect(value).to_have_attribute("aria-sort", "ascending")
        by_number = sorted(expected, key=lambda r: r.number)
        expect(rows.first.locator("td").first).to_have_text(by_number[0].value)
        value.locator("button").click()
        expect(value).to_have_attribute("aria-sort", "descending")
        expect(rows.first.locator("td").first).to_have_text(by_number[-1].value)
        with page.expect_download() as download:
            tab.locator(".rag-fig-csv").click()
        assert download.value.suggested_filename == "news-qa-figures.csv"
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        downloaded = csv_rows(text)
        shown = [cell.strip() for cell in rows.locator("td:first-child").all_inner_texts()]
        assert [row["value"] for row in downloaded] == shown
        numbers = [float(row["number"]) for row in downloaded]
        assert numbers == sorted(numbers, reverse=True)
        as_written = [{k: str(v) for k, v in asdict(r).items()} for r in expected]
        assert sorted(downloaded, key=str) == sorted(as_written, key=str)

        # A column of words sorts too, and a filter keeps the sort asked for.
        tab.locator(".rag-fig-table th button", has_text="Place").click()
        expect(rows.first).to_contain_text("Chongqing")
        expect(rows.last).to_contain_text("place not stated")
        page.get_by_label("About (what it is a figure of)").fill("")
        expect(tab.locator(".rag-fig-count")).not_to_contain_text("about")
        expect(rows.first.locator("td").nth(3)).to_have_text("China")
        places = rows.locator("td:nth-child(4)").evaluate_all("all => all.map(c => c.dataset.key)")
        named = [place for place in places if place]
        assert places == named + [""] * (len(places) - len(named)) and named == sorted(named)

        assert browsing.axe_violations(page) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        page.get_by_label("About (what it is a figure of)").fill(ABOUT)
        expect(tab.locator(".rag-fig-count")).to_contain_text(f"about “{ABOUT}”")
        bar.locator("summary").click()
        expect(bar.locator(".rag-fig-source")).to_be_visible()
        _screenshot(page, f"figures-{width}.png")
        assert page.errors == [] and page.outside == []
    finally:
        page.context.close()


def _screenshot(page, name: str) -> None:
    browsing.ARTIFACTS.mkdir(exist_ok=True)
    shot = browsing.ARTIFACTS / name
    page.locator("#rag-tabs").scroll_into_view_if_needed()
    page.screenshot(path=str(shot), full_page=True)
    committed = SHOTS / name
    if os.environ.get("RAG_UPDATE_SCREENSHOT") or not committed.exists():
        SHOTS.mkdir(exist_ok=True)
        shutil.copyfile(shot, committed)


def test_a_comparison_shows_its_figures_charted_under_the_answer(chromium, figures_server):
    from playwright.sync_api import expect

    page = browsing.open_page(chromium, figures_server)
    try:
        reply = browsing.ask(page, "Compare online sales growth in Xinjiang and Yichang")
        chart = reply.locator(".rag-chart[data-measure=growth][data-unit=percent]")
        expect(chart.locator(".rag-bar-value", has_text="15 percent")).to_have_count(1)
        bar = chart.locator(".rag-bar").filter(has=page.locator(".rag-bar-value", has_text="20%"))
        bar.locator("summary").click()
        expect(bar.locator("mark.rag-cited")).to_have_text(YICHANG_SENTENCE)
        assert browsing.axe_violations(page) == []
        assert page.errors == [] and page.outside == []
    finally:
        page.context.close()


def test_the_figures_tab_shows_an_uploaded_article(chromium, fake_embedder, tmp_path) -> None:
    """After an upload, and on any page opened later, the tab holds the new figures."""
    from playwright.sync_api import expect

    from rag.assistant import Assistant

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(browsing.CORPUS, corpus)
    # The figures do not depend on the embedder: a fake one makes the rebuild instant.
    served = Assistant.from_corpus(corpus, index, embedder=fake_embedder)
    app, url = ui.launch(served, port=0, block=False, quiet=True, corpus=corpus, index_dir=index)
    page = open_figures(chromium, url, 1366)
    try:
        tab = page.locator("#rag-figures")
        expect(tab).not_to_contain_text("7.4 percent")
        page.get_by_role("tab", name="Chat").click()
        page.locator("#rag-upload-panel").get_by_text("Add articles").click()
        page.locator("#rag-upload input[type=file]").set_input_files(
            [browsing.UPLOADS / "guangzhou-retail.md"]
        )
        expect(page.locator("#rag-chat .rag-upload")).to_contain_text("Added and indexed")
        page.get_by_role("tab", name="Figures").click()
        expect(tab.locator(".rag-fig-table")).to_contain_text("7.4 percent")  # filters kept
        expect(tab.locator(".rag-chart").first).to_contain_text("7.4 percent")
        page.locator("#rag-fig-article input").click()
        expect(page.get_by_role("option", name=browsing.GUANGZHOU_TITLE)).to_have_count(1)
        page.keyboard.press("Escape")
        page.reload()
        page.get_by_role("tab", name="Figures").click()
        expect(tab.locator(".rag-fig-table")).to_contain_text("7.4 percent")
        assert page.errors == [] and page.outside == []
    finally:
        page.context.close()
        app.close()
