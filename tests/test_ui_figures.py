"""Tests for ui/figures.py and ui/figures_tab.py: charts of like beside like, and the table."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import asdict, replace

import pytest

from rag.answer.timeref import period_label
from rag.types import Answer, Evidence, ShortAnswer
from ui import figures as charting
from ui.figures_tab import figures_body
from ui.library import Library

from .conftest import CORPUS, XINJIANG

YICHANG = "001_3888668b42d211bb"
GROWTH = {"measure": "growth", "about": "online retail sales"}


@pytest.fixture(scope="module")
def bundled(fake_embedder):
    """The bundled articles: their figures do not depend on the embedder."""
    from rag.assistant import Assistant

    return Assistant.from_corpus(CORPUS, None, embedder=fake_embedder)


@pytest.fixture(scope="module")
def articles(bundled):
    return {article.doc_id: article for article in bundled.articles}


def find(records, value: str, doc_id: str):
    return next(r for r in records if r.value == value and r.doc_id == doc_id)


def test_one_chart_per_measure_and_unit(bundled):
    records = bundled.figures()
    charts = charting.charts(records)
    for chart in charts:
        assert {(r.measure, r.unit) for r in chart.figures} == {(chart.measure, chart.unit)}
    assert sum(len(chart.figures) for chart in charts) == len(records)
    assert [len(chart.figures) for chart in charts] == sorted(
        (len(chart.figures) for chart in charts), reverse=True
    )
    # A share is never beside a growth rate, nor yuan beside dollars.
    axes = {(chart.measure, chart.unit) for chart in charts}
    assert {("growth", "percent"), ("share", "percent")} <= axes
    assert {("amount", "CNY"), ("amount", "USD")} <= axes


def test_growth_of_online_retail_sales_keeps_percent_and_points_apart(bundled):
    charts = charting.charts(bundled.figures(**GROWTH))
    assert [chart.title for chart in charts] == [
        "Growth in percent",
        "Growth in percentage points",
    ]
    percent, points = ([r.value for r in chart.figures] for chart in charts)
    assert "15 percent" in percent and "20%" in percent
    assert set(points) == {
        "1.7 percentage points",  # service-based online retail sales' share, up from last year
        "3 percentage points",
        "5.6 percentage points",
        "5.8 percentage points",
    }


def test_groups_are_by_place_and_period_and_never_borrow_one(bundled):
    for chart in charting.charts(bundled.figures()):
        for group in chart.groups:
            assert {r.place or charting.NO_PLACE for r in group.figures} == {group.place}
            assert {period_label(r.period) or charting.NO_PERIOD for r in group.figures} == {
                group.period
            }
            numbers = [r.number for r in group.figures]
            assert numbers == sorted(numbers, reverse=True)  # the largest first
    (percent, _) = charting.charts(bundled.figures(**GROWTH))
    where = {(g.place, g.period): [r.value for r in g.figures] for g in percent.groups}
    assert where["Xinjiang", "H1 2024"][0] == "56 percent"
    assert "15 percent" in where["Xinjiang", "H1 2024"]
    # Named places first, in order, then the figures whose place is not stated.
    places = [g.place for g in percent.groups]
    named = [p for p in places if p != charting.NO_PLACE]
    assert named == sorted(named) and places[len(named) :] == [charting.NO_PLACE] * (
        len(places) - len(named)
    )
    # The world's 8.8% names no place, and no article or paragraph lends it one; Yichang's 20%
    # takes its article's place and its paragraph's period.
    assert where[charting.NO_PLACE, "2024"] == ["8.8%"]
    assert where["Yichang", "January–May 2024"] == ["20%"]


def test_an_amount_in_an_unnamed_currency_shares_an_axis_with_nothing(bundled):
    amount = next(r for r in bundled.figures(measure="amount") if r.unit == "CNY")
    unnamed = [replace(amount, unit="money", value=v, number=n) for v, n in (("9", 9), ("7", 7))]
    charts = charting.charts([amount, *unnamed])
    assert sorted(len(chart.figures) for chart in charts) == [1, 1, 1]
    assert {chart.title for chart in charts} == {
        "Amount in CNY",
        "Amount in a currency not stated",
    }


@pytest.mark.parametrize(
    ("period", "key"),
    [("H2 2024", "2024-07"), ("Q2 2024", "2024-04"), ("2024-01/2024-05", "2024-01"), ("", "")],
)
def test_period_key_sorts_by_when_a_period_starts(period, key):
    assert charting.period_key(period) == key
    assert charting.period_key("2024") < charting.period_key("H1 2024") < "2024-07"


def test_bars_are_as_long_as_their_numbers_and_labelled_as_written(bundled, articles):
    (percent, _) = charting.charts(bundled.figures(**GROWTH))
    rendered = charting.render_chart(percent, articles)
    widths = {
        html.unescape(value): float(width)
        for width, value in re.findall(
            r'width:([\d.]+)%"></span></span><span class="rag-bar-value">([^<]+)</span>', rendered
        )
    }
    assert widths["56 percent"] == 100.0
    assert widths["15 percent"] == pytest.approx(100 * 15 / 56, abs=0.05)
    assert widths["20%"] == pytest.approx(100 * 20 / 56, abs=0.05)
    assert "<figcaption>Growth in percent: 9 figures, by place and period</figcaption>" in rendered
    assert rendered.count('<li class="rag-bar">') == 9


def test_a_bar_opens_onto_its_sentence_in_context_with_its_citation(bundled, articles):
    record = find(bundled.figures(**GROWTH), "15 percent", XINJIANG)
    source = charting.render_source(record, articles[XINJIANG])
    assert f'<mark class="rag-short-answer">{record.value}</mark>' in source
    cited = source.split('<mark class="rag-cited">', 1)[1]
    assert html.unescape(re.sub(r"<[^>]+>", "", cited)).startswith(record.sentence)
    assert html.escape(record.title) in source and "covering H1 2024" in source
    assert "Shiliuyun-Xinjiang Daily" in source
    # The paragraph is the article's own text around the sentence.
    text = articles[XINJIANG].text
    start = text.index(record.sentence)
    assert text[start : start + len(record.sentence)] == record.sentence


def test_article_text_is_escaped_everywhere(bundled, articles):
    record = replace(
        find(bundled.figures(**GROWTH), "20%", YICHANG),
        subject="<script>alert(1)</script>",
        title='<img src=x onerror="alert(2)">',
        publisher="<b>Daily</b>",
    )
    rendered = charting.render_figures([record], articles)
    assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


def test_each_row_carries_the_csv_line_that_rag_figures_writes(bundled, articles):
    records = bundled.figures(**GROWTH)
    rendered = charting.render_figures(records, articles)
    header = html.unescape(re.search(r'data-csv-header="([^"]*)"', rendered).group(1))
    lines = [html.unescape(line) for line in re.findall(r'<tr data-csv="([^"]*)"', rendered)]
    # As `rag figures --format csv` writes them: csv.DictWriter over asdict of each record.
    expected = io.StringIO()
    writer = csv.DictWriter(expected, fieldnames=list(asdict(records[0])), lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(r) for r in records)
    assert header + "".join(lines) == expected.getvalue()
    n = len(records)
    assert f"{n} figures" in rendered and f"Download CSV ({n} rows as shown)" in rendered


def test_the_table_names_what_is_not_stated_and_sorts_periods_by_their_start(bundled, articles):
    record = replace(find(bundled.figures(**GROWTH), "20%", YICHANG), place="", period="")
    row = charting.render_table([record], articles)
    assert f'<span class="rag-not-stated">{charting.NO_PLACE}</span>' in row
    assert f'<span class="rag-not-stated">{charting.NO_PERIOD}</span>' in row
    cells = charting.render_table([replace(record, period="2024-01/2024-05")], articles)
    assert 'data-key="2024-01" data-label="Period">January–May 2024</td>' in cells


def _answer(records, *, question: str, differing: tuple[int, ...] = ()) -> Answer:
    evidence = [
        Evidence(
            r.sentence,
            r.doc_id,
            r.title,
            r.publisher,
            r.published,
            0,
            len(r.sentence),
            0.9,
            ShortAnswer(r.value, r.start, r.end, 1.0, "figure rule"),
        )  # fmt: skip
        for r in records
    ]
    return Answer(question, "[1] [2]", False, 0.9, evidence, question, differing=differing)


def test_an_answer_charts_the_figures_it_sets_side_by_side(bundled):
    chosen = bundled.figures(**GROWTH)
    pair = [find(chosen, "15 percent", XINJIANG), find(chosen, "20%", YICHANG)]
    differing = _answer(pair, question="How much did online retail sales grow?", differing=(0, 1))
    assert charting.side_by_side(differing, bundled.figures) == pair
    compared = _answer(pair, question="Compare online sales growth in Xinjiang and Yichang")
    assert charting.side_by_side(compared, bundled.figures) == pair
    alone = _answer(pair, question="How much did online retail sales grow?")
    assert charting.side_by_side(alone, bundled.figures) == []
    abstained = replace(differing, abstained=True)
    assert charting.side_by_side(abstained, bundled.figures) == []


def test_a_comparison_in_the_chat_shows_its_chart(assistant):
    from ui import app as ui

    reply, _ = ui.chat_reply(assistant, "Compare online sales growth in Xinjiang and Yichang", None)
    chart = reply.split('<div class="rag-charts">', 1)[1]
    assert '<figure class="rag-chart" data-measure="growth" data-unit="percent">' in chart
    assert ">15 percent</span></summary>" in chart and ">20%</span></summary>" in chart
    plain, _ = ui.chat_reply(assistant, "How much did Xinjiang live-streaming sales grow?", None)
    assert "rag-charts" not in plain  # one figure answers it: nothing is set side by side


def test_the_tab_body_follows_its_filters(bundled):
    library = Library(bundled)
    body = figures_body(library, "growth", "  online   retail sales ", "", "")
    n = len(bundled.figures(measure="growth", about="online retail sales"))
    assert f"{n} figures of growth about “online retail sales”" in body
    only = figures_body(library, "", "", "Xinjiang", XINJIANG)
    xinjiang = bundled.figures(place="Xinjiang", article=XINJIANG)
    assert f"{len(xinjiang)} figures in Xinjiang in “Online retail sales in Xinjiang" in only
    assert "No figure of share about “zebras”" in figures_body(library, "share", "zebras", "", "")
    # An article no longer indexed (a stale page after a rebuild) leaves the filter open.
    assert figures_body(library, "", "", "", "gone") == figures_body(library, "", "", "", "")


def test_the_charts_stop_at_their_limit_and_say_so(bundled, articles, monkeypatch):
    monkeypatch.setattr(charting, "CHART_LIMIT", 5)
    rendered = charting.render_charts(bundled.figures(), articles)
    assert rendered.count('<li class="rag-bar">') == 5
    assert f"{len(bundled.figures()) - 5} more figures are in the table" in rendered
