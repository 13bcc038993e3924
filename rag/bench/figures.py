"""The figures table: its share of an index's build, and `GET /api/figures` under load."""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .load import JsonRequest, run_load
from .measure import TARGETS, timed
from .serving import load_row, rag_serve

if TYPE_CHECKING:
    from ..assistant import Assistant
    from ..index.embed import Encoder

VALUES_EACH = 2  # values of each filter in the mix: the table's most common ones


@dataclass(frozen=True)
class FiguresBuild:
    """What making the figures table cost one index build, from its build report."""

    articles: int
    figures: int
    annotated: int  # articles whose figures the build computed (every one, from scratch)
    table_s: float
    build_s: float  # the whole build, the table included

    @property
    def share(self) -> float:
        return self.table_s / self.build_s

    def row(self) -> dict[str, Any]:
        """Its bench.json row."""
        return {
            "articles": self.articles,
            "figures": self.figures,
            "annotated": self.annotated,
            "table_s": round(self.table_s, 3),
            "build_s": round(self.build_s, 3),
            "share": round(self.share, 4),
            "target_met": self.share < TARGETS["figures_build_share"],
        }


def figures_build(assistant: Assistant) -> FiguresBuild:
    """The figures table's part of the build `assistant` came from (`build.json` holds the same)."""
    report = assistant.build_report
    return FiguresBuild(
        report.articles,
        len(assistant.figures()),
        report.annotated,
        report.annotation_seconds,
        report.seconds,
    )


def figures_mix(assistant: Assistant) -> tuple[JsonRequest, ...]:
    """GET /api/figures as a client of the table asks it: the whole table, each filter with
    the table's most common values (round by round, so that every client's turns mix the
    filters), then measure, place and period at once. A response must hold as many figures as
    `assistant` (the index the server loads) gives for the same filters."""
    records = assistant.figures()
    values = {
        "measure": _common(r.measure for r in records),
        "about": _common(r.subject.split()[-1] for r in records if r.subject),
        "place": _common(r.place for r in records if r.place),
        "period": _common(_year(r.period) for r in records if _year(r.period)),
    }
    queries: list[tuple[str, dict[str, str]]] = [("table", {})]
    for rank in range(VALUES_EACH):
        queries += [(kind, {kind: top[rank]}) for kind, top in values.items() if rank < len(top)]
    triples = _common(
        (r.measure, r.place, _year(r.period)) for r in records if r.place and _year(r.period)
    )
    if triples:
        measure, place, period = triples[0]
        queries.append(("combined", {"measure": measure, "place": place, "period": period}))
    return tuple(
        _request(kind, params, len(assistant.figures(**params))) for kind, params in queries
    )


def figures_served(
    corpus: Path, index_dir: Path, mix: Sequence[JsonRequest], clients: int, requests_each: int
) -> dict[str, Any]:
    """`rag serve` on the index in a process of its own, its first GET /api/figures timed
    alone (it reads the table from the index), then `clients` sessions sending `mix`."""
    if clients < 1:
        return {"skipped": True}
    with rag_serve(corpus, index_dir) as server:
        whole = server.url + "api/figures"
        first = timed(lambda: urllib.request.urlopen(whole, timeout=120).read())
        load = run_load(
            server.url, clients=clients, questions_each=requests_each, api="json", mix=mix
        )
    row = load_row(load, ("all", *dict.fromkeys(request.kind for request in mix)))
    row["first_request_ms"] = round(first * 1000, 1)
    row["target_met"] = (
        row["target_met"] and row["latency"]["all"]["p95_ms"] <= TARGETS["figures_p95_ms"]
    )
    return row


def figures_rows(
    label: str,
    corpus: Path,
    index_dir: Path,
    assistant: Assistant,
    clients: int,
    requests_each: int,
) -> dict[str, Any]:
    """The build row and the load row of one corpus, whose index `assistant` built."""
    return {
        "corpus": label,
        "path": str(corpus),
        "build": figures_build(assistant).row(),
        "served": figures_served(corpus, index_dir, figures_mix(assistant), clients, requests_each),
    }


def squad_figures(
    squad: Path, embedder: Encoder, directory: Path, clients: int, requests_each: int
) -> dict[str, Any]:
    """`figures_rows` for a SQuAD file's articles, written as a corpus under `directory` and
    indexed there from scratch."""
    from ..assistant import Assistant
    from ..eval.data import read_squad, write_squad_corpus

    corpus = write_squad_corpus(read_squad(squad), directory / "corpus")
    index_dir = directory / "index"
    assistant = Assistant.from_corpus(corpus, index_dir, embedder=embedder, rebuild=True)
    return figures_rows(squad.name, corpus, index_dir, assistant, clients, requests_each)


def _request(kind: str, params: dict[str, str], expected: int) -> JsonRequest:
    query = f"?{urlencode(params)}" if params else ""
    return JsonRequest(
        kind, b"", 200, lambda r: len(r["figures"]) == expected, "GET", f"/api/figures{query}"
    )


def _common(values: Iterable[Any]) -> list[Any]:
    return [value for value, _ in Counter(values).most_common(VALUES_EACH)]


def _year(period: str) -> str:
    """The year a period of the table starts in ("H1 2024" -> "2024"), "" for none."""
    found = re.search(r"\d{4}", period)
    return found[0] if found else ""
