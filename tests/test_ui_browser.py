"""Browser tests: Debian's Chromium, headless, driven by Playwright against the real UI server."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from rag.types import Abstention
from ui import app as ui
from ui import render

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
XINJIANG = "004_62637a1ca6fb8c94"
YICHANG = "001_3888668b42d211bb"
GROWTH = "How much did online sales grow?"
UPLOADS = ROOT / "tests" / "fixtures" / "uploads"
GUANGZHOU_TITLE = "Guangzhou online retail sales rise in July"
CHROMIUM = os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
LOCAL_HOSTS = ("127.0.0.1", "localhost")
ARTIFACTS = ROOT / "test-artifacts"  # git-ignored; CI keeps it
SCREENSHOT = ROOT / "docs" / "screenshot.png"  # committed; refreshed with RAG_UPDATE_SCREENSHOT=1
ANSWER_TIMEOUT_MS = 60_000  # a loaded CI machine can be slow on the first question
XINJIANG_QUESTION = "How much did Xinjiang live-streaming sales grow?"
# Off-topic or absent from the articles; the abstention test uses whichever the assistant
# abstains on, so that it does not hang on one question while the scorer is being retrained.
UNANSWERABLE = (
    "Who won the 2022 FIFA World Cup final?",
    "What is the capital of Australia?",
    "Who won the 2022 World Cup?",
    "What were Amazon's global e-commerce sales in 2024?",
    "How much did Tibet live-streaming sales grow?",
    "What is the population of Yichang?",
)
HOSTILE_TITLE = '<img src=y onerror="window.__xss = 3">Zorblax <i>widget</i> report'
HOSTILE_PARAGRAPH = (
    "The Zorblax widget market in Freedonia grew 42 percent in 2024, "
    "<script>window.__xss = 1</script> the statistics bureau said on Monday. "
    'Its chart <img src=x onerror="window.__xss = 2"> showed widget sales rising in every '
    "province of Freedonia. Readers can [click here](http://evil.invalid/steal) for the "
    "**full** Zorblax widget report. Template syntax such as ${window.__xss = 4}, "
    "{{constructor}} and `backticks` stays as typed."
)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("RAG_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM}; .ci/run installs it with apt-get")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(assistant):
    app, url = ui.launch(assistant, port=0, block=False, quiet=True)
    yield url
    app.close()


@pytest.fixture(scope="module")
def upload_server(embedder, tmp_path_factory):
    """A server over a copy of the corpus that takes uploads, as `rag serve` starts it."""
    from rag.assistant import Assistant

    folder = tmp_path_factory.mktemp("served")
    corpus, index = folder / "corpus", folder / "index"
    shutil.copytree(CORPUS, corpus)
    assistant = Assistant.from_corpus(corpus, index, embedder=embedder)
    app, url = ui.launch(assistant, port=0, block=False, quiet=True, corpus=corpus, index_dir=index)
    yield url, corpus
    app.close()


def api_get(url: str, path: str) -> dict:
    from urllib.request import urlopen

    with urlopen(url + path, timeout=30) as response:
        return json.load(response)


def open_page(browser, url: str):
    from playwright.sync_api import expect

    expect.set_options(timeout=ANSWER_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    page.errors = []  # uncaught JS errors: the page's own script must not fail
    page.dialogs = []  # an alert() would mean injected script ran
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.outside = []  # requests beyond the local server: the page must work offline
    page.on(
        "request",
        lambda request: (
            request.url.startswith((url, "data:", "blob:")) or page.outside.append(request.url)
        ),
    )
    page.goto(url)
    page.locator("#rag-question textarea").wait_for()
    return page


@pytest.fixture
def page(browser, server):
    page = open_page(browser, server)
    yield page
    assert page.errors == []
    assert page.outside == []
    page.context.close()


def ask(page, question: str):
    """Type and submit a question; the newest reply bubble once it has arrived."""
    from playwright.sync_api import expect

    replies = page.locator("#rag-chat .rag-bot")
    before = replies.count()
    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(replies).to_have_count(before + 1)
    expect(box).to_have_value("")
    return replies.last


def test_answer_shows_the_figure_and_its_source_in_context(page, assistant):
    from playwright.sync_api import expect

    expected = assistant.ask(XINJIANG_QUESTION)
    title = next(a.title for a in assistant.articles if a.doc_id == XINJIANG)
    reply = ask(page, XINJIANG_QUESTION)
    expect(reply.locator(".rag-answer")).to_contain_text("56 percent")
    expect(reply.locator(".rag-sources")).to_contain_text(title)
    expect(reply.locator(".rag-confidence")).to_contain_text(f"{expected.confidence:.2f}")
    # The short answer is marked in the sentence it comes from, not in every cited sentence,
    # and each sentence is an item of its own.
    marks = reply.locator(".rag-answer mark.rag-short-answer")
    assert marks.all_inner_texts() == [expected.short_answer.text] == ["56 percent"]
    expect(reply.locator(".rag-answer > li.rag-sentence")).to_have_count(len(expected.evidence))
    expect(reply.locator(".rag-answer > li").first.locator("mark")).to_have_text("56 percent")

    # The cited sentence, highlighted inside its paragraph, once the reader expands it.
    first = expected.evidence[0]
    context = reply.locator("details.rag-context").first
    expect(context.locator(".rag-paragraph")).to_be_hidden()
    context.locator("summary").click()
    expect(context.locator("mark.rag-cited")).to_have_text(first.text)
    article = next(a for a in assistant.articles if a.doc_id == first.doc_id)
    lo, hi = render.paragraph_bounds(article.text, first.start, first.end)
    expect(context.locator(".rag-paragraph")).to_have_text(article.text[lo:hi])

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "ui-answer.png"
    page.wait_for_timeout(400)  # let the scroll to the newest answer settle
    page.screenshot(path=str(shot))
    if os.environ.get("RAG_UPDATE_SCREENSHOT") or not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_who_question_shows_the_short_answer_emphasized(page, assistant):
    from playwright.sync_api import expect

    question = "Who signed cooperation agreements with Chongqing in late November?"
    expected = assistant.ask(question)
    assert not expected.abstained and expected.short_answer is not None
    reply = ask(page, question)
    expect(reply.locator(".rag-short strong")).to_have_text(expected.short_answer.text)
    expect(reply.locator(".rag-answer mark.rag-short-answer").first).to_have_text(
        expected.short_answer.text
    )
    assert "JD" in expected.short_answer.text


def test_follow_up_says_what_it_answered_and_clear_resets(page):
    from playwright.sync_api import expect

    ask(page, XINJIANG_QUESTION)
    reply = ask(page, "what about Yichang?")
    expect(reply.locator(".rag-answered-as q")).to_have_text(
        "How much did Yichang live-streaming sales grow?"
    )
    # The user's own words, asked again without the previous question.
    replies = page.locator("#rag-chat .rag-bot")
    reply.locator(".rag-ask-anew").click()
    expect(replies).to_have_count(3)
    expect(page.locator("#rag-chat .rag-user").last).to_have_text("what about Yichang?")
    expect(replies.last.locator(".rag-answered-as")).to_have_count(0)
    page.locator("#rag-clear").click()
    expect(page.locator("#rag-chat .rag-turn")).to_have_count(0)
    reply = ask(page, "and in rural areas?")  # nothing to follow up on after clearing
    expect(reply.locator(".rag-answered-as")).to_have_count(0)


def test_example_question_is_asked_on_click(page):
    from playwright.sync_api import expect

    example = page.locator(".rag-example").nth(1)
    expect(example).to_have_text(ui.EXAMPLES[1])
    example.click()
    expect(page.locator("#rag-chat .rag-user")).to_have_text([ui.EXAMPLES[1]])
    reply = page.locator("#rag-chat .rag-bot").last
    expect(reply.locator(".rag-answer, .rag-abstain")).to_have_count(1)
    expect(reply.locator(".rag-source").first).to_be_visible()


def test_unanswerable_question_shows_the_abstention(page, assistant):
    from playwright.sync_api import expect

    abstained = [q for q in UNANSWERABLE if assistant.ask(q).abstained]
    assert abstained, "the assistant answered every off-topic question"
    answer = assistant.ask(abstained[0])
    reply = ask(page, abstained[0])
    expect(reply.locator(".rag-abstain")).to_contain_text("The articles do not say.")
    expect(reply.locator(".rag-answer")).to_have_count(0)
    expect(reply.locator(".rag-closest-label")).to_have_count(1 if answer.evidence else 0)
    expect(reply.locator(".rag-confidence")).to_contain_text("low")


def test_an_unstated_measure_is_said_in_words(page, assistant):
    from playwright.sync_api import expect

    question = "How many live-streaming sessions were held during the Chongqing 618 festival?"
    answer = assistant.ask(question)
    assert answer.abstention is Abstention.ASKED_MEASURE_MISSING, answer
    reply = ask(page, question)
    expect(reply.locator(".rag-abstain")).to_contain_text(
        f"None of the passages found states {answer.unstated}."
    )
    expect(reply.locator(".rag-answer")).to_have_count(0)


def test_bad_questions_are_chat_messages_and_the_server_keeps_serving(page):
    from playwright.sync_api import expect

    reply = ask(page, "   ")
    expect(reply.locator(".rag-error")).to_contain_text("question is empty")
    reply = ask(page, "why? " * 1000)
    expect(reply.locator(".rag-error")).to_contain_text("the limit is 2,000")
    expect(page.locator("#rag-chat .rag-user").last).to_contain_text("(5,000 characters)")
    reply = ask(page, XINJIANG_QUESTION)
    expect(reply.locator(".rag-answer")).to_contain_text("56 percent")
    assert "Traceback" not in page.locator("body").inner_text()


@pytest.fixture(scope="module")
def hostile_server(embedder, tmp_path_factory):
    """A corpus holding an article whose text and title are HTML, script and markdown."""
    from rag.assistant import Assistant

    corpus = tmp_path_factory.mktemp("hostile-corpus")
    (corpus / "hostile.txt").write_text(
        f"Widget markets, a survey.\n\n{HOSTILE_PARAGRAPH}\n\nThe bureau publishes monthly.\n"
    )
    for name in ("001_3888668b42d211bb", XINJIANG):
        shutil.copyfile(CORPUS / f"{name}.txt", corpus / f"{name}.txt")
    (corpus / "metadata.jsonl").write_text(
        json.dumps({"doc_id": "hostile", "title": HOSTILE_TITLE, "publisher": "<b>Bureau</b>"})
        + "\n"
    )
    hostile = Assistant.from_corpus(corpus, None, embedder=embedder)
    assert any(HOSTILE_PARAGRAPH in article.text for article in hostile.articles)
    app, url = ui.launch(hostile, port=0, block=False, quiet=True, examples=())
    yield url
    app.close()


def test_html_in_articles_and_questions_renders_as_text(browser, hostile_server):
    from playwright.sync_api import expect

    page = open_page(browser, hostile_server)
    corpus = page.locator("#rag-corpus")
    expect(corpus).to_contain_text(HOSTILE_TITLE)
    expect(corpus).to_contain_text("<b>Bureau</b>")

    question = "How much did the <b>Zorblax</b> widget market in Freedonia grow?"
    reply = ask(page, question)
    expect(page.locator("#rag-chat .rag-user")).to_have_text([question])
    for details in reply.locator("details").all():
        details.locator("summary").click()
    chat = page.locator("#rag-chat")
    expect(chat).to_contain_text(HOSTILE_TITLE)
    for literal in (
        "<script>window.__xss = 1</script>",
        '<img src=x onerror="window.__xss = 2">',
        "[click here](http://evil.invalid/steal)",
        "**full**",
        "${window.__xss = 4}, {{constructor}} and `backticks`",
    ):
        expect(chat).to_contain_text(literal)
    page.wait_for_timeout(500)  # give a broken image's onerror the time to fire
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []
    injected = "script, img, a, iframe, b, i"
    assert page.locator(f"#rag-chat :is({injected}), #rag-corpus :is({injected})").count() == 0
    assert page.errors == []
    assert page.outside == []
    page.context.close()


# --- accessibility --------------------------------------------------------------------------

WIDTHS = {"phone": 390, "laptop": 1366}


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page (WCAG 2 A and AA rules)."""
    import axe_playwright_python

    page.add_script_tag(path=str(Path(axe_playwright_python.__file__).with_name("axe.min.js")))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice'],"
        " resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("device", WIDTHS)
def test_the_page_is_accessible_and_reads_well_at_phone_and_laptop_widths(
    browser, upload_server, device
) -> None:
    page = open_page(browser, upload_server[0])
    try:
        page.set_viewport_size({"width": WIDTHS[device], "height": 900})
        # The filter and the upload panel open, so that their inputs are checked too.
        page.locator("#rag-filter").get_by_text("Search only").click()
        page.locator("#rag-upload-panel").get_by_text("Add articles").click()
        assert page.get_by_label("Published from").count() == 1
        # Announced as what it is, and every new answer is read out where it appears.
        assert page.get_by_role("textbox", name="Your question").count() == 1
        live = page.locator("[role=log][aria-live=polite]")
        assert live.count() == 1 and live.get_attribute("aria-label") == "Conversation"
        ask(page, XINJIANG_QUESTION)
        reply = ask(page, UNANSWERABLE[0])
        assert live.locator(".rag-bot").count() == 2
        # Open a source in context, so that its text is checked too.
        reply.locator("details.rag-context").first.locator("summary").click()
        assert axe_violations(page) == []
        # "Clear conversation" stays a button-sized button next to its hint.
        assert page.locator("#rag-clear").bounding_box()["height"] < 60
        if device == "phone":
            # The answer grows with the page rather than scrolling inside a box of its own.
            chat = page.locator("#rag-chat")
            assert chat.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
            assert page.evaluate("() => document.documentElement.scrollWidth <= 390")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"ui-{WIDTHS[device]}.png"
        page.locator(".rag-turn").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shot))
        committed = ROOT / "docs" / f"ui-{WIDTHS[device]}.png"
        if os.environ.get("RAG_UPDATE_SCREENSHOT") or not committed.exists():
            shutil.copyfile(shot, committed)
        assert page.errors == [] and page.outside == []
    finally:
        page.context.close()


def test_an_answer_is_copied_with_its_citations_and_the_chat_exported(page, assistant) -> None:
    from playwright.sync_api import expect

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    reply = ask(page, XINJIANG_QUESTION)
    reply.locator(".rag-copy").click()
    expect(reply.locator(".rag-copy")).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    expected = assistant.ask(XINJIANG_QUESTION)
    first = expected.evidence[0]
    assert copied.startswith("Answer: 56 percent\n\n[1] ")
    lines = copied.splitlines()
    assert f"[1] {first.text}" in lines
    # One line per citation, with title, publisher, date and where in the article it lies.
    for n, item in enumerate(expected.evidence, start=1):
        line = f"[{n}] {item.title} — {item.publisher}, {item.published[:10]}, characters "
        assert f"{line}{item.start}–{item.end} of {item.doc_id}" in lines
    ask(page, UNANSWERABLE[0])
    with page.expect_download() as download:
        page.locator("#rag-export").click()
    assert download.value.suggested_filename == "news-qa-conversation.md"
    exported = Path(download.value.path()).read_text()
    assert exported.startswith(f"# News QA conversation\n\n## {XINJIANG_QUESTION}\n\n")
    assert copied in exported and f"## {UNANSWERABLE[0]}" in exported
    assert "The articles do not say" in exported


def test_the_filter_restricts_answers_to_the_chosen_article_and_dates(page, assistant) -> None:
    from playwright.sync_api import expect

    titles = {a.doc_id: a.title for a in assistant.articles}
    page.locator("#rag-filter").get_by_text("Search only").click()
    choose = page.locator("#rag-filter-articles input")
    choose.click()
    choose.fill("Livestreaming fuels")
    page.get_by_role("option", name=titles[YICHANG], exact=False).click()
    page.keyboard.press("Escape")
    reply = ask(page, GROWTH)
    expect(reply.locator(".rag-scope")).to_have_text("Searched only: 1 chosen article")
    sources = reply.locator(".rag-sources").inner_text()
    assert titles[YICHANG] in sources
    assert not any(titles[other] in sources for other in titles if other != YICHANG)
    # A date range instead: only the article published in it, and a bad date is a message.
    page.locator("#rag-filter-articles [role=button][title=Clear]").click()
    page.get_by_label("Published from").fill("2024-07-19")
    page.get_by_label("Published until").fill("2024-07")
    reply = ask(page, GROWTH)
    expect(reply.locator(".rag-scope")).to_have_text(
        "Searched only: published from 2024-07-19 to 2024-07"
    )
    assert titles[XINJIANG] in reply.locator(".rag-sources").inner_text()
    # A bad date is said as soon as the field is left, in the words of its label, and goes
    # once it is put right.
    said = page.locator("#rag-date-problem .rag-date-problem")
    expect(said).to_be_hidden()
    page.get_by_label("Published until").fill("last week")
    page.get_by_label("Published until").press("Tab")
    expect(said).to_contain_text("“Published until” must be a date as YYYY, YYYY-MM or YYYY-MM-DD")
    expect(said).to_be_visible()
    reply = ask(page, GROWTH)  # asked anyway: the same words in the chat
    expect(reply.locator(".rag-error")).to_contain_text("“Published until” must be a date")
    page.get_by_label("Published until").fill("2024-06")
    page.get_by_label("Published until").press("Tab")
    expect(said).to_contain_text("“Published from” (2024-07-19) is after “Published until”")
    page.get_by_label("Published until").fill("2024-12")
    expect(said).to_be_hidden()


def test_articles_uploaded_in_the_browser_are_checked_indexed_and_answered(
    browser, upload_server
) -> None:
    from playwright.sync_api import expect

    url, corpus = upload_server
    page = open_page(browser, url)
    try:
        before = api_get(url, "api/health")["articles"]
        expect(page.locator("#rag-header")).to_contain_text(f"{before} articles")
        page.locator("#rag-upload-panel").get_by_text("Add articles").click()
        page.locator("#rag-upload input[type=file]").set_input_files(
            [UPLOADS / "guangzhou-retail.md", UPLOADS / "screenshot.txt"]
        )
        report = page.locator("#rag-chat .rag-upload")
        expect(report).to_contain_text("Added and indexed")
        expect(report).to_contain_text("guangzhou-retail.md → uploads/guangzhou-retail.md")
        expect(report).to_contain_text("screenshot.txt: is a PNG image, not an article")
        expect(page.locator("#rag-corpus")).to_contain_text(GUANGZHOU_TITLE)
        expect(page.locator("#rag-header")).to_contain_text(f"{before + 1} articles")
        assert sorted(p.name for p in (corpus / "uploads").iterdir()) == ["guangzhou-retail.md"]
        assert api_get(url, "api/health")["articles"] == before + 1
        # A reload (or any page opened later) shows the corpus as it is now, not as it was
        # when the server started: the counts, the corpus panel and the filter's choices.
        page.reload()
        page.locator("#rag-question textarea").wait_for()
        expect(page.locator("#rag-header")).to_contain_text(f"{before + 1} articles")
        expect(page.locator("#rag-corpus .rag-counts")).to_contain_text(f"{before + 1} articles")
        expect(page.locator("#rag-corpus")).to_contain_text(GUANGZHOU_TITLE)
        page.locator("#rag-filter").get_by_text("Search only").click()
        page.locator("#rag-filter-articles input").click()
        expect(page.get_by_role("option", name=GUANGZHOU_TITLE, exact=False)).to_have_count(1)
        page.keyboard.press("Escape")
        reply = ask(page, "How much did Guangzhou's online retail sales rise in July?")
        expect(reply.locator(".rag-answer")).to_contain_text("7.4 percent")
        expect(reply.locator(".rag-sources")).to_contain_text("Pearl River Business Weekly")
        assert page.errors == [] and page.outside == []
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def link_server(embedder, tmp_path_factory):
    """A server that takes links, with `--fetch-private` (its pages come from 127.0.0.1)."""
    from rag.assistant import Assistant
    from tests.ingest.site import serving

    folder = tmp_path_factory.mktemp("links")
    corpus, index = folder / "corpus", folder / "index"
    shutil.copytree(CORPUS, corpus)
    assistant = Assistant.from_corpus(corpus, index, embedder=embedder)
    (folder / "site").mkdir()
    with serving(folder / "site") as site:
        app, url = ui.launch(
            assistant, port=0, block=False, quiet=True, corpus=corpus, index_dir=index,
            fetch_private=True,
        )  # fmt: skip
        yield url, site
        app.close()


def test_links_added_in_the_browser_are_fetched_indexed_and_cited(browser, link_server) -> None:
    from playwright.sync_api import expect

    url, site = link_server
    page = open_page(browser, url)
    try:
        before = api_get(url, "api/health")["articles"]
        page.locator("#rag-upload-panel").get_by_text("Add articles").click()
        page.locator("#rag-links textarea").fill(
            f"{site}/chengdu-exports.html\n{site}/shenzhen-logistics.atom\n{site}/gone.html"
        )
        page.locator("#rag-add-links").click()
        report = page.locator("#rag-chat .rag-upload")
        expect(report).to_contain_text("Added and indexed")
        expect(report).to_contain_text(f"{site}/chengdu-exports.html → uploads/chengdu-exports")
        expect(report).to_contain_text(f"{site}/gone.html: answered HTTP 404, not a page")
        expect(page.locator("#rag-header")).to_contain_text(f"{before + 3} articles")
        # The refused link stays in the field, to be corrected; the added ones leave it.
        expect(page.locator("#rag-links textarea")).to_have_value(f"{site}/gone.html")
        reply = ask(page, "How much did Chengdu's cross-border e-commerce exports grow?")
        expect(reply.locator(".rag-answer")).to_contain_text("34 percent")
        sources = reply.locator(".rag-sources")
        expect(sources).to_contain_text("Li Wen")
        expect(sources).to_contain_text("Sichuan Business Daily")
        link = sources.locator(".rag-title a").first
        expect(link).to_have_attribute(
            "href", "https://news.example.com/business/2024/08/03/chengdu-exports.html"
        )
        assert page.errors == [] and page.outside == []
    finally:
        page.context.close()


def test_the_api_docs_render_with_the_network_blocked(browser, server) -> None:
    """/api/docs is Swagger UI served by the server itself: nothing comes from a CDN."""
    from urllib.parse import urlparse

    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    blocked, errors = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def local_only(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    try:
        page.route("**/*", local_only)
        page.goto(server + "api/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("News QA")
        for path in ("/api/ask", "/api/ask_many", "/api/articles", "/api/health"):
            expect(page.locator(f'.opblock-summary-path[data-path="{path}"]')).to_be_visible()
        # An operation opens, with its request body's schema.
        page.locator('.opblock-summary-path[data-path="/api/ask"]').click()
        expect(page.locator(".opblock-body").first).to_contain_text("question")
        assert blocked == [] and errors == []
    finally:
        context.close()


@pytest.mark.parametrize("device", WIDTHS)
def test_answers_use_the_width_and_their_copy_button_is_in_view(browser, server, device) -> None:
    """No sideways scrolling; at 390 px the answer takes the page's width (it left 75 px of it
    unused); "Copy with citations" can be scrolled fully into view, not cut off by the chat."""
    width = WIDTHS[device]
    page = open_page(browser, server)
    try:
        page.set_viewport_size({"width": width, "height": 900})
        ask(page, XINJIANG_QUESTION)
        ask(page, UNANSWERABLE[0])
        reply = ask(page, XINJIANG_QUESTION)
        page.wait_for_timeout(300)  # the scroll to the newest answer
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        bubble = reply.bounding_box()
        if device == "phone":
            assert width - bubble["width"] <= 40, bubble
        else:  # beside the filter, a chat bubble with a little room to its right
            chat = page.locator("#rag-chat").bounding_box()
            assert 0.85 * chat["width"] <= bubble["width"] <= chat["width"], (bubble, chat)
        copy = reply.locator(".rag-copy")
        copy.scroll_into_view_if_needed()
        assert page.evaluate(FULLY_IN_VIEW, copy.element_handle()), "the copy button is cut off"
        assert page.errors == [] and page.outside == []
    finally:
        page.context.close()


# Whether an element is whole on screen: inside the window and inside every ancestor that
# clips (an `overflow` other than visible), and what the window shows at its four corners.
FULLY_IN_VIEW = """(element) => {
  const box = element.getBoundingClientRect();
  if (box.top < 0 || box.left < 0 || box.bottom > innerHeight || box.right > innerWidth) {
    return false;
  }
  for (let node = element.parentElement; node && node !== document.body;
       node = node.parentElement) {
    const style = getComputedStyle(node);
    if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
    const clip = node.getBoundingClientRect();
    if (box.top < clip.top - 0.5 || box.bottom > clip.bottom + 0.5
        || box.left < clip.left - 0.5 || box.right > clip.right + 0.5) return false;
  }
  const corners = [[box.left + 2, box.top + 2], [box.right - 2, box.top + 2],
                   [box.left + 2, box.bottom - 2], [box.right - 2, box.bottom - 2]];
  return corners.every(([x, y]) => element.contains(document.elementFromPoint(x, y)));
}"""
