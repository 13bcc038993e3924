"""The figures table (issue 30, first part): every figure of the bundled articles as a record."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rag import cli
from rag.errors import SettingsError

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
