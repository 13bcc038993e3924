"""Tests for ui/app.py: follow-up rule, HTML rendering, chat turns, the /ask API and `rag serve`."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from rag.scope import Scope
from rag.settings import (
    MAX_QUESTION_CHARS,
    Settings,
    validate_question,
)
from rag.types import Abstention, Answer, Article, Evidence, ShortAnswer
from ui import app as ui
from ui import render

XINJIANG_QUESTION = "How much did Xinjiang live-streaming sales grow?"
HOSTILE = (
    "Sales rose <script>window.__xss = 1</script> by 42 percent, "
    '<img src=x onerror="window.__xss = 2"> see [the report](http://evil.invalid/) & more.'
)
PARAGRAPH_BEFORE = "An earlier paragraph."
SECOND = "Another sentence in the same paragraph."


class Tags(HTMLParser):
    """Every start tag and its attributes, to check what a rendered fragment would create."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def names(self) -> set[str]:
        return {tag for tag, _ in self.tags}


def article(text: str, doc_id: str = "a1", title: str = "A <b>bold</b> title") -> Article:
    return Article(doc_id, text, title=title, publisher="Daily <i>", published="2024-07-19T10:00")


def evidence_in(art: Article, sentence: str, span: tuple[int, int] | None = None) -> Evidence:
    start = art.text.index(sentence)
    return Evidence(
        text=sentence,
        doc_id=art.doc_id,
        title=art.title,
        publisher=art.publisher,
        published=art.published,
        start=start,
        end=start + len(sentence),
        score=0.9,
        short_answer=None
        if span is None
        else ShortAnswer(
            sentence[span[0] : span[1]], start + span[0], start + span[1], 0.8, "reader"
        ),
    )


@pytest.fixture
def hostile_article() -> Article:
    return article(f"{PARAGRAPH_BEFORE}\n\n{HOSTILE} {SECOND}\n\nA later paragraph.")


class FakeAssistant:
    """Enough of Assistant for the UI: articles, settings, build report, ask() and figures()."""

    def __init__(self, articles: list[Article], *, abstain: bool = False) -> None:
        self.articles = tuple(articles)
        self.threshold = 0.35
        self.high_threshold = 0.8
        self.settings = Settings()
        self.build_report = SimpleNamespace(articles=len(articles), passages=7, sentences=12)
        self.asked: list[str] = []
        self.scopes: list[Scope | None] = []
        self.abstain = abstain

    def ask(
        self,
        question: object,
        *,
        top_k: int | None = None,
        mode: str | None = None,
        scope: Scope | None = None,
    ) -> Answer:
        cleaned = validate_question(question)
        self.asked.append(cleaned)
        self.scopes.append(scope)
        art = self.articles[0]
        sentence = art.text.split("\n\n")[1]
        figure = sentence.index("42 percent")
        item = evidence_in(art, sentence, None if self.abstain else (figure, figure + 10))
        text = ("The articles do not say. " if self.abstain else "") + f"[1] {sentence}"
        return Answer(
            str(question), text, self.abstain, 0.2 if self.abstain else 0.9, [item], cleaned
        )

    def figures(self, **filters: str | None) -> list:
        return []  # the figures table is tested over the real corpus (tests/test_ui_figures.py)


# --- rendering ----------------------------------------------------------------------------------


def test_key_figure_is_emphasized_and_text_escaped(hostile_article):
    figure = HOSTILE.index("42 percent")
    rendered = render.render_sentence(evidence_in(hostile_article, HOSTILE, (figure, figure + 10)))
    assert '<mark class="rag-short-answer">42 percent</mark>' in rendered
    assert "&lt;script&gt;" in rendered and "<script" not in rendered
    assert Tags(rendered).names == {"mark"}


def test_bad_answer_span_is_ignored(hostile_article):
    sentence = hostile_article.text.split("\n\n")[1]
    rendered = render.render_sentence(evidence_in(hostile_article, sentence, (5, 10_000)))
    assert "<mark" not in rendered


def test_paragraph_bounds():
    text = "one.\n\ntwo. three.\n\nfour."
    start = text.index("three.")
    assert text[slice(*render.paragraph_bounds(text, start, start + 6))] == "two. three."
    assert render.paragraph_bounds("solo.", 0, 5) == (0, 5)


def test_context_is_the_surrounding_paragraph_with_the_sentence_marked(hostile_article):
    item = evidence_in(hostile_article, SECOND)
    rendered = render.render_context(item, hostile_article)
    parsed = Tags(rendered)
    assert parsed.names == {"mark"}
    text = "".join(parsed.text)
    assert text == f"{HOSTILE} {SECOND}"  # exactly the paragraph, nothing from its neighbours
    assert re.search(
        r'<mark class="rag-cited">Another sentence in the same paragraph\.</mark>', rendered
    )


def test_answer_shows_markers_figure_confidence_and_sources(hostile_article):
    answer = FakeAssistant([hostile_article]).ask("How much did sales rise?")
    rendered = render.render_answer(
        answer, {"a1": hostile_article}, threshold=0.35, asked="How much did sales rise?"
    )
    parsed = Tags(rendered)
    text = "".join(parsed.text)
    assert "[1]" in text and "42 percent" in text
    assert "Confidence: high (0.90)" in text
    assert "A <b>bold</b> title" in text and "Daily <i>" in text and "2024-07-19" in text
    assert "Show [1] in context" in text
    assert "<script>window.__xss = 1</script>" in text  # shown, as text
    assert "[the report](http://evil.invalid/)" in text
    assert not parsed.names & {"script", "img", "a", "b", "i", "iframe"}
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
    assert "Answered as" not in text
    assert "rag-abstain" not in rendered


def test_answer_says_which_question_it_answered(hostile_article):
    answer = FakeAssistant([hostile_article]).ask("How much did Yichang sales rise?")
    rendered = render.render_answer(answer, {}, threshold=0.35, asked="what about <Yichang>?")
    assert "Answered as: <q>How much did Yichang sales rise?</q>" in rendered


def test_abstention_is_a_clear_message_then_labelled_closest_passages(hostile_article):
    answer = FakeAssistant([hostile_article], abstain=True).ask("Who won the World Cup?")
    rendered = render.render_answer(answer, {"a1": hostile_article}, threshold=0.35)
    text = "".join(Tags(rendered).text)
    assert text.startswith("The articles do not say. The closest passages found may not answer it.")
    assert "None of the indexed articles" not in text  # it shows passages just below
    assert "Closest passages — these may not answer it:" in text
    assert "Where the closest passages come from" in text
    assert "Confidence: low (0.20)" in text
    assert "rag-short-answer" not in rendered  # nothing is "the answer" when there is none


def test_abstention_says_what_no_passage_states():
    answer = Answer(
        "How many sessions were held in Chongqing?",
        "The articles do not say: none of the passages found states a number of sessions for "
        "Chongqing.",
        True,
        0.05,
        [],
        "How many sessions were held in Chongqing?",
        abstention=Abstention.ASKED_MEASURE_MISSING,
        unstated="a number of sessions for <Chongqing>",
    )
    rendered = render.render_answer(answer, {}, threshold=0.35)
    text = "".join(Tags(rendered).text)
    assert "The articles do not say. None of the passages found states a number of sessions" in text
    assert "for <Chongqing>." in text and "<Chongqing>" not in rendered  # escaped


def test_abstention_without_any_passage():
    answer = Answer("q?", "The articles do not say.", True, 0.0, [], "q?")
    text = "".join(Tags(render.render_answer(answer, {}, threshold=0.35)).text)
    assert "The articles do not say." in text and "Closest" not in text
    assert "None of the indexed articles answers this question." in text


@pytest.mark.parametrize(
    ("confidence", "level"), [(0.95, "high"), (0.8, "high"), (0.79, "medium"), (0.1, "low")]
)
def test_confidence_levels(confidence, level):
    assert render.confidence_level(confidence, 0.35, 0.8) == level
    # "high" never starts below the threshold answers start from
    assert render.confidence_level(0.5, 0.6, 0.4) == "low"


def test_sources_group_sentences_of_one_article(hostile_article):
    first = evidence_in(hostile_article, PARAGRAPH_BEFORE)
    second = evidence_in(hostile_article, SECOND)
    rendered = render.render_sources([first, second], {"a1": hostile_article}, heading="Sources")
    assert rendered.count('class="rag-source"') == 1
    assert rendered.count("<details") == 2
    assert "Show [1] in context" in rendered and "Show [2] in context" in rendered


def test_conversation_escapes_the_question_and_shortens_huge_ones():
    rendered = render.render_conversation(
        [["<img src=x onerror=alert(1)>?", "<p>reply</p>"], ["x" * 5000, "r"], ["  ", "e"]]
    )
    assert "&lt;img src=x onerror=alert(1)&gt;?" in rendered
    assert "(5,000 characters)" in rendered and "x" * 301 not in rendered
    assert "(empty question)" in rendered
    assert "<p>reply</p>" in rendered  # replies are already rendered HTML
    assert "Ask a question" in render.render_conversation([])


def test_corpus_panel_counts_and_escaped_titles(hostile_article):
    undated = Article("b2", "text", title="", publisher="")
    rendered = render.render_corpus(FakeAssistant([hostile_article, undated]))
    text = "".join(Tags(rendered).text)
    assert "2 articles · 7 passages · 12 sentences indexed" in text
    assert "A <b>bold</b> title" in text and "b2" in text and "date unknown" in text
    assert "<b>" not in rendered


def test_error_message_is_escaped():
    rendered = render.render_error("question is <empty>")
    assert "question is &lt;empty&gt;" in rendered and "rag-error" in rendered


# --- chat turns ---------------------------------------------------------------------------------


def test_chat_reply_answers_and_remembers_the_answered_question(hostile_article):
    fake = FakeAssistant([hostile_article])
    html_reply, previous = ui.chat_reply(fake, XINJIANG_QUESTION, None)
    assert previous == XINJIANG_QUESTION and "42 percent" in html_reply
    html_reply, previous = ui.chat_reply(fake, "what about Yichang?", previous)
    assert fake.asked[-1] == previous == "How much did Yichang live-streaming sales grow?"
    assert "Answered as:" in html_reply


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "question is empty"),
        ("   ", "question is empty"),
        ("x" * (MAX_QUESTION_CHARS + 1), "the limit is"),
        (None, "must be a string"),
    ],
)
def test_bad_questions_become_chat_messages(hostile_article, question, message):
    fake = FakeAssistant([hostile_article])
    html_reply, previous = ui.chat_reply(fake, question, "earlier question?")
    assert "rag-error" in html_reply and message in html_reply
    assert previous == "earlier question?"  # the conversation can go on
    assert "Traceback" not in html_reply


def test_unexpected_failure_is_a_message_not_a_traceback(hostile_article):
    fake = FakeAssistant([hostile_article])
    fake.ask = lambda question, **options: 1 / 0
    html_reply, _ = ui.chat_reply(fake, "Why?", None)
    assert "something went wrong" in html_reply and "ZeroDivisionError" not in html_reply


def test_examples_for_other_corpora(tmp_path):
    assert ui.examples_for(None) == ui.EXAMPLES
    assert ui.examples_for(tmp_path) == ()
    (tmp_path / "gold_qa.jsonl").write_text(
        '{"question": "Q1?", "answerable": true}\n{"question": "Q2?", "answerable": false}\n\n'
    )
    assert ui.examples_for(tmp_path) == ("Q1?",)


# --- the real server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory):
    art = article(f"{PARAGRAPH_BEFORE}\n\n{HOSTILE} {SECOND}")
    app, url = ui.launch(FakeAssistant([art]), port=0, block=False, quiet=True)
    yield url
    app.close()


def test_server_binds_loopback_and_exposes_only_ask(fake_server):
    from gradio_client import Client

    assert fake_server.startswith("http://127.0.0.1:")
    client = Client(fake_server, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]
    result = client.predict("How much did sales rise?", api_name="/ask")
    assert result["short_answer"]["text"] == "42 percent"
    first = result["evidence"][0]
    assert result["short_answer"]["start"] == first["start"] + first["text"].index("42 percent")


def test_api_errors_are_messages(fake_server):
    from gradio_client import Client

    client = Client(fake_server, verbose=False)
    with pytest.raises(Exception, match="question is empty"):
        client.predict("  ", api_name="/ask")
    assert client.predict("Still serving?", api_name="/ask")["question"] == "Still serving?"


def test_ask_endpoint_on_the_real_assistant(assistant):
    from gradio_client import Client

    app, url = ui.launch(assistant, port=0, block=False, quiet=True)
    try:
        result = Client(url, verbose=False).predict(XINJIANG_QUESTION, api_name="/ask")
    finally:
        app.close()
    assert result == assistant.ask(XINJIANG_QUESTION).to_dict()
    assert not result["abstained"]
    assert any("56 percent" in item["text"] for item in result["evidence"])


# --- `rag serve` --------------------------------------------------------------------------------


def test_serve_defaults_to_loopback(monkeypatch, capsys):
    from rag import cli
    from rag.index import store

    args = cli.build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    calls = []
    monkeypatch.setattr(cli, "_assistant", lambda parsed: "the assistant")
    monkeypatch.setattr(ui, "launch", lambda assistant, **kw: calls.append((assistant, kw)))
    assert cli.main(["serve", "--port", "0"]) == 0
    assert calls == [
        (
            "the assistant",
            {
                "host": "127.0.0.1",
                "port": 0,
                "examples": ui.EXAMPLES,
                "corpus": cli.DEFAULT_CORPUS,  # uploads land in its uploads/ folder
                "index_dir": store.DEFAULT_INDEX,
                "hosts": [],
                "fetch_private": False,  # a served page fetches public links only
            },
        )
    ]
    calls.clear()
    assert cli.main(["serve", "--port", "0", "--read-only"]) == 0
    assert calls[0][1]["corpus"] is None  # no uploads


def test_differing_figures_render_with_measure_subject_period_and_dates(assistant) -> None:
    from rag.answer.compose import differing_figures
    from tests.answer.test_compose import XJ, _figure

    yichang = _figure("yichang", "Yichang's online sales grew 20%.", "20%", 0.7, "2024-07-18")
    evidence = [XJ, yichang]
    answer = Answer("q?", "...", False, 0.8, evidence, "q?", differing=differing_figures(evidence))
    html = render.render_answer(answer, {}, threshold=0.28)
    block = html.split('class="rag-differing"', 1)[1].split("</div>", 1)[0]
    subjects = {0: "online sales", 1: "Yichang&#x27;s online sales"}
    for position in answer.differing:
        item = answer.evidence[position]
        label = f"(growth of {subjects[position]})"
        assert f"<strong>{item.short_answer.text}</strong> {label}" in block
        assert f"[{position + 1}]" in block and item.published[:10] in block
    single = assistant.ask("How much did Xinjiang live-streaming sales grow?")
    assert "rag-differing" not in render.render_answer(single, {}, threshold=0.28)


# --- the page after an upload ------------------------------------------------------------------


def test_every_page_load_shows_the_corpus_of_the_moment(hostile_article):
    from ui.library import Library

    library = Library(FakeAssistant([hostile_article]))
    blocks = ui.build_app(library, examples=())
    loads = {f.name: f for f in blocks.fns.values() if any(e == "load" for _, e in f.targets)}
    assert sorted(loads) == ["corpus_now", "refresh"]  # the corpus panel and the Figures tab
    header, corpus, _ = loads["corpus_now"].fn()
    assert "**1 article** · **7** passages" in header
    added = article("Later.\n\nSales fell 3 percent.", doc_id="a2", title="Added later")
    library._use(FakeAssistant([hostile_article, added]))  # what an upload does
    header, corpus, choices = loads["corpus_now"].fn()
    assert "**2 articles**" in header and "Added later" in corpus
    assert ("Added later (2024-07-19)", "a2") in choices["choices"]
    _, _, figure_articles = loads["refresh"].fn("", "", "", "")
    assert ("Added later (2024-07-19)", "a2") in figure_articles["choices"]


# --- what an answer shows (issue 27) ------------------------------------------------------------

FIGURES = "Sales rose 42 percent in 2024. Exports grew 12 percent. Imports fell 3 percent."


def _figures_answer(*, differing: tuple[int, ...] = (), period: str = "") -> tuple[Answer, Article]:
    art = article(FIGURES)
    items = []
    figures = ("42 percent", "12 percent", "3 percent")
    for sentence, figure in zip(FIGURES.split(". "), figures, strict=True):
        sentence = sentence if sentence.endswith(".") else sentence + "."
        at = sentence.index(figure)
        items.append(evidence_in(art, sentence, (at, at + len(figure))))
    items[0] = replace(items[0], period=period)
    return Answer("q?", "[1] ...", False, 0.9, items, "q?", differing=differing), art


def test_only_the_sentence_the_answer_comes_from_is_marked() -> None:
    answer, art = _figures_answer()
    rendered = render.render_answer(answer, {"a1": art}, threshold=0.35)
    assert rendered.count('class="rag-short-answer"') == 2  # the sentence and its context
    body = rendered.split('<ul class="rag-answer">', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r'<li class="rag-sentence">(.*?)</li>', body)
    assert len(items) == 3  # one list item per cited sentence
    assert '<mark class="rag-short-answer">42 percent</mark>' in items[0]
    assert "<mark" not in items[1] + items[2]
    # Differing figures, set side by side, are answers too: each is marked.
    answer, art = _figures_answer(differing=(0, 2))
    body = render.render_answer(answer, {"a1": art}, threshold=0.35).split(
        '<ul class="rag-answer">', 1
    )[1]
    assert body.count('<mark class="rag-short-answer">') == 2 + 2  # [1], [3], and in context
    assert '<mark class="rag-short-answer">12 percent' not in body


def test_copy_with_citations_gives_one_source_line_per_citation() -> None:
    answer, _ = _figures_answer()
    copied = render.with_citations(answer)
    lines = copied.splitlines()
    sources = [line for line in lines if "characters" in line]
    assert len(sources) == 3 and len(set(sources)) == 3
    for n, item in enumerate(answer.evidence, start=1):
        assert f"[{n}] {item.text}" in lines
        assert (
            f"[{n}] A <b>bold</b> title — Daily <i>, 2024-07-19, "
            f"characters {item.start}–{item.end} of a1"
        ) in lines


def test_periods_read_as_people_write_them() -> None:
    answer, art = _figures_answer(period="2024-01/2024-05")
    rendered = render.render_answer(answer, {"a1": art}, threshold=0.35)
    assert "covering January–May 2024" in rendered and "2024-01/2024-05" not in rendered
    answer, art = _figures_answer(period="2024-01/2024-05", differing=(0, 1))
    block = render.render_differing(answer)
    assert "January–May 2024" in block and "2024-01/2024-05" not in block


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("", "last week", "“Published until” must be a date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ("July 2024", "", "“Published from” must be a date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2024-08", "2024-07", "“Published from” (2024-08) is after “Published until” (2024-07)"),
        ("2024-07-19", "2024-07", ""),
        ("", "", ""),
    ],
)
def test_date_filter_problems_name_the_fields_as_labelled(since, until, message) -> None:
    problem = ui.date_problem(since, until)
    assert problem.startswith(message) if message else problem == ""
    assert "since" not in problem and "until" not in problem.replace("Published until", "")


def test_a_date_range_without_articles_is_said_at_once(hostile_article) -> None:
    problem = ui.date_problem("1990", "1991", [hostile_article])
    assert problem.startswith("No indexed article is among published from 1990 to 1991")


def test_a_question_with_a_bad_date_says_which_field(hostile_article) -> None:
    reply, previous = ui.chat_reply(
        FakeAssistant([hostile_article]), "How much?", "before", scope=(None, "", "last week")
    )
    assert "“Published until” must be a date" in reply and previous == "before"
