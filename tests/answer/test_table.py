"""The figures table (issue 30, first part): every figure of the bundled articles as a record."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

import pytest

from rag import cli
from rag.answer.table import figure_records, period_months
from rag.errors import SettingsError
from rag.scope import Scope

from ..conftest import XINJIANG

YICHANG = "001_3888668b42d211bb"


def test_every_figure_is_a_record_at_its_offsets(assistant) -> None:
    records = assistant.figures()
    texts = {a.doc_id: a.text for a in assistant.articles}
    assert len(records) > 40
    for r in records:
        assert texts[r.doc_id][r.start : r.end] == r.value and r.value in r.sentence
    units = {r.unit for r in records}
    assert {"percent", "percentage points", "CNY", "USD"} <= units
    assert not any(r.value in ("2024", "2025") for r in records)  # a year is no figure


def test_growth_of_online_retail_sales_lists_each_articles_figure(assistant) -> None:
    growth = assistant.figures(measure="growth", about="online retail sales")
    by_value = {(r.doc_id, r.value): r for r in growth}
    xinjiang = by_value[(XINJIANG, "15 percent")]
    assert (xinjiang.subject, xinjiang.place, xinjiang.period) == (
        "total online retail sales",
        "Xinjiang",
        "H1 2024",
    )
    # "Online sales grew by 20% year-on-year during this period": the place the article named
    # last, and the period its paragraph named.
    yichang = by_value[(YICHANG, "20%")]
    assert (yichang.place, yichang.period) == ("Yichang", "2024-01/2024-05")
    assert all(r.measure == "growth" for r in growth)
    # A share is not a growth rate; an amount carries its currency.
    shares = assistant.figures(measure="share", article=YICHANG)
    assert [r.value for r in shares] == ["12.5%"]
    amounts = {r.value: r for r in assistant.figures(measure="amount", article=YICHANG)}
    assert amounts["3.6 billion yuan"].unit == "CNY" and amounts["3.6 billion yuan"].number == 3.6e9
    assert amounts["506 million US dollars"].unit == "USD"


def test_an_unknown_measure_says_which_there_are(assistant) -> None:
    with pytest.raises(SettingsError, match="share, growth, amount, level"):
        assistant.figures(measure="rate")


def test_rag_figures_prints_a_table_csv_and_json(assistant, monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "_assistant", lambda args, **kwargs: assistant)
    ask = ["figures", "--measure", "growth", "--about", "online retail sales"]
    assert cli.main(ask) == 0
    table = capsys.readouterr().out
    assert "15 percent" in table and "H1 2024" in table and "place unknown" in table
    assert cli.main([*ask, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"value", "unit", "measure", "subject", "place", "period", "doc_id"} <= set(rows[0])
    assert cli.main([*ask, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {k: (int(v) if k in ("start", "end") else float(v) if k == "number" else v)
         for k, v in row.items()}
        for row in rows
    ]  # fmt: skip


def test_the_assistant_serves_the_table_stored_with_its_index(assistant) -> None:
    assert assistant.index.annotation("figures") is not None
    assert assistant.figures() == figure_records(assistant.articles)


def test_figures_of_a_period_and_of_a_scope(assistant) -> None:
    h1 = assistant.figures(period="H1 2024")
    assert h1 and all(period_months(r.period)[0] >= period_months("2024-01")[0] for r in h1)
    assert {r.period for r in h1} <= {"H1 2024", "Q1 2024", "Q2 2024", "2024-01/2024-05"}
    # A year holds its halves, quarters and months; a figure of no period is in none.
    year = assistant.figures(period="2024")
    assert {r.value for r in h1} < {r.value for r in year}
    assert all(r.period for r in year)
    july = assistant.figures(scope=Scope(since="2024-07", until="2024-07-31"))
    assert {r.doc_id for r in july} == {YICHANG, XINJIANG}
    with pytest.raises(SettingsError, match="period must be a year"):
        assistant.figures(period="last summer")
    with pytest.raises(ValueError, match="since must be a date"):
        assistant.figures(scope=Scope(since="July"))


@pytest.mark.parametrize(
    ("period", "months"),
    [("2024", (24288, 24299)), ("H2 2024", (24294, 24299)), ("Q3 2024", (24294, 24296)),
     ("2024-05", (24292, 24292)), ("2024-11-26", (24298, 24298)),
     ("2023-11/2024-02", (24286, 24289)), ("H3 2024", None), ("2024-13", None), ("May", None)],
)  # fmt: skip
def test_period_months(period, months) -> None:
    assert period_months(period) == months


def test_rag_figures_filters_by_period_and_dates(assistant, monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "_assistant", lambda args, **kwargs: assistant)
    assert cli.main(["figures", "--period", "H1 2024", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [asdict(r) for r in assistant.figures(period="H1 2024")]
    assert cli.main(["figures", "--period", "soon"]) == 2
    assert "period must be a year" in capsys.readouterr().err
    assert cli.main(["figures", "--since", "July"]) == 2
    assert "since must be a date" in capsys.readouterr().err
