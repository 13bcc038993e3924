"""The articles' figures as HTML: bar charts that set only like beside like, and a table."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields

from rag.answer.compare import comparison
from rag.answer.table import FigureRecord
from rag.answer.timeref import period_label
from rag.types import Answer, Article, Evidence, ShortAnswer

from .render import render_citation, render_context

NO_PLACE = "place not stated"
NO_PERIOD = "period not stated"
CHART_LIMIT = 150  # bars drawn; past it the charts say how many more the filters would show
TABLE_LIMIT = 2000  # rows shown (and downloaded); `rag figures` and /api/figures list them all
CSV_FIELDS = tuple(f.name for f in fields(FigureRecord))  # the columns `rag figures` writes
_HALF_OR_QUARTER = re.compile(r"^([HQ])([1-4]) (\d{4})$")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Group:
    """The bars of one place and one period.

    Attributes:
        place: the place its figures' sentences are about, or "place not stated".
        period: the period they speak of, as people read it ("January–May 2024"), or "period
            not stated".
        figures: its figures, the largest first.
    """

    place: str
    period: str
    figures: tuple[FigureRecord, ...]


@dataclass(frozen=True)
class Chart:
    """Figures of one measure in one unit, the only ones that may share an axis.

    Attributes:
        measure: what they measure: "growth", "share", "amount" or "level".
        unit: their unit: "percent", "percentage points", a currency code, a count's noun.
        groups: its bars by place and period, named places first.
    """

    measure: str
    unit: str
    groups: tuple[Group, ...]

    @property
    def figures(self) -> tuple[FigureRecord, ...]:
        return tuple(record for group in self.groups for record in group.figures)

    @property
    def title(self) -> str:
        """ "Growth in percent", "Amount in CNY", "Level: number of brands"."""
        measure = self.measure.capitalize()
        if self.unit in ("percent", "percentage points") or _CURRENCY_CODE.match(self.unit):
            return f"{measure} in {self.unit}"
        if self.unit == "money":
            return f"{measure} in a currency not stated"
        return f"{measure}: number of {self.unit}"


def charts(records: Sequence[FigureRecord]) -> list[Chart]:
    """`records` split into charts, one per measure and unit, the fullest first; in each, bars
    grouped by place and period (named ones first, then by when the period starts), the
    largest first. A sum in a currency the text does not name shares an axis with nothing."""
    axes: dict[tuple[str, str, int], list[FigureRecord]] = {}
    for n, record in enumerate(records):
        alone = n if record.unit == "money" else -1  # "money": its currency is unknown
        axes.setdefault((record.measure, record.unit, alone), []).append(record)
    built = [Chart(measure, unit, _groups(members)) for (measure, unit, _), members in axes.items()]
    return sorted(built, key=lambda chart: (-len(chart.figures), chart.measure, chart.unit))


def _groups(records: Sequence[FigureRecord]) -> tuple[Group, ...]:
    by_where: dict[tuple[str, str], list[FigureRecord]] = {}
    for record in records:
        by_where.setdefault((record.place, record.period), []).append(record)
    order = sorted(
        by_where,
        key=lambda k: (not k[0], k[0].lower(), not k[1], period_key(k[1]), k[1]),
    )
    return tuple(
        Group(
            place or NO_PLACE,
            period_label(period) or NO_PERIOD,
            tuple(sorted(by_where[place, period], key=lambda r: -r.number)),
        )
        for place, period in order
    )


def period_key(period: str) -> str:
    """A key that sorts periods by when they start: "H2 2024" -> "2024-07", "Q2 2024" ->
    "2024-04", "2024-01/2024-05" -> "2024-01"; "2024" comes before its months."""
    if match := _HALF_OR_QUARTER.match(period):
        kind, number, year = match.groups()
        months = 6 if kind == "H" else 3
        return f"{year}-{months * (int(number) - 1) + 1:02d}"
    return period.split("/")[0]


def side_by_side(
    answer: Answer, figures: Callable[..., Sequence[FigureRecord]]
) -> list[FigureRecord]:
    """The figures an answer sets side by side: those of the articles that differ, or, for a
    comparison, of every cited sentence; each its record from `figures` (as
    `Assistant.figures`), found by where its short answer lies. Empty when it sets none."""
    if answer.abstained:
        return []
    asked = answer.answered_question or answer.question
    positions = answer.differing or (
        range(len(answer.evidence)) if comparison(asked) is not None else ()
    )
    found: list[FigureRecord] = []
    for position in positions:
        short = answer.evidence[position].short_answer
        if short is None or short.start == short.end:  # no answer, or a metadata field
            continue
        overlap = {
            record: min(record.end, short.end) - max(record.start, short.start)
            for record in figures(article=answer.evidence[position].doc_id)
        }
        best = max(overlap, key=overlap.__getitem__, default=None)
        if best is not None and overlap[best] > 0 and best not in found:
            found.append(best)
    return found


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _as_evidence(record: FigureRecord, article: Article | None) -> Evidence:
    """The figure's sentence as the chat cites one, its figure as the short answer, so that it
    shows in context the way an answer's sentences do."""
    start = record.start - record.sentence.find(record.value)
    if article is not None:
        found = article.text.find(record.sentence, max(0, record.end - len(record.sentence)))
        start = found if 0 <= found <= record.start else start
    figure = ShortAnswer(record.value, record.start, record.end, 1.0, "figure rule")
    return Evidence(
        text=record.sentence,
        doc_id=record.doc_id,
        title=record.title,
        publisher=record.publisher,
        published=record.published,
        start=start,
        end=start + len(record.sentence),
        score=1.0,
        short_answer=figure,
        period=record.period,
        author=article.author if article is not None else "",
        url=article.url if article is not None else "",
    )


def render_source(record: FigureRecord, article: Article | None) -> str:
    """The figure's paragraph, its sentence and figure highlighted, then its citation."""
    item = _as_evidence(record, article)
    return (
        f'<div class="rag-fig-source"><p class="rag-paragraph">{render_context(item, article)}</p>'
        f'<p class="rag-fig-cite">{render_citation(item)}</p></div>'
    )


def _byline(record: FigureRecord) -> str:
    return ", ".join(p for p in (record.publisher, record.published[:10] or "date unknown") if p)


def _bar(record: FigureRecord, largest: float, article: Article | None) -> str:
    width = 100 * record.number / largest if largest > 0 else 0
    subject = _esc(record.subject or "unnamed")
    return (
        f'<li class="rag-bar"><details><summary title="Show the sentence it comes from">'
        f'<span class="rag-bar-what"><span class="rag-bar-subject">{subject}</span> '
        f'<span class="rag-meta">{_esc(_byline(record))}</span></span>'
        f'<span class="rag-bar-track" aria-hidden="true">'
        f'<span class="rag-bar-fill" style="width:{max(width, 0.0):.1f}%"></span></span>'
        f'<span class="rag-bar-value">{_esc(record.value)}</span></summary>'
        f"{render_source(record, article)}</details></li>"
    )


def render_chart(chart: Chart, articles: Mapping[str, Article]) -> str:
    """One chart: a caption that says what it compares, then each group's bars, each labelled
    with its value as written and opening onto the sentence it comes from."""
    largest = max((record.number for record in chart.figures), default=0.0)
    count = len(chart.figures)
    groups = "".join(
        f'<div class="rag-chart-group"><p class="rag-chart-where">{_esc(group.place)} · '
        f'{_esc(group.period)}</p><ul class="rag-bars">'
        + "".join(_bar(r, largest, articles.get(r.doc_id)) for r in group.figures)
        + "</ul></div>"
        for group in chart.groups
    )
    caption = f"{_esc(chart.title)}: {count} figure{'s' if count != 1 else ''}, by place and period"
    return (
        f'<figure class="rag-chart" data-measure="{_esc(chart.measure)}" '
        f'data-unit="{_esc(chart.unit)}"><figcaption>{caption}</figcaption>{groups}</figure>'
    )


def render_charts(records: Sequence[FigureRecord], articles: Mapping[str, Article]) -> str:
    """The charts of `records`, at most CHART_LIMIT bars, saying how many more there are."""
    drawn = list(records[:CHART_LIMIT])
    more = len(records) - len(drawn)
    note = (
        f'<p class="rag-chart-more">{more:,} more figures are in the table; narrow the filters '
        "to chart them.</p>"
        if more > 0
        else ""
    )
    body = "".join(render_chart(chart, articles) for chart in charts(drawn))
    return f'<div class="rag-charts">{body}{note}</div>'


def csv_line(values: Sequence[object]) -> str:
    """One line of CSV, quoted as `rag figures --format csv` quotes it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


# Each column: its name, how it sorts, and whether a phone names it in each row, where rows are
# cards (`CSS`): a value and a source speak for themselves.
_COLUMNS = (
    ("Value", "number", False),
    ("Measure", "text", True),
    ("Of what", "text", True),
    ("Place", "text", True),
    ("Period", "text", True),
    ("Source", "text", False),
)


def _row(record: FigureRecord, article: Article | None) -> str:
    place = _esc(record.place) or f'<span class="rag-not-stated">{NO_PLACE}</span>'
    period = _esc(period_label(record.period)) or f'<span class="rag-not-stated">{NO_PERIOD}</span>'
    cells = (
        (repr(record.number), f'<span class="rag-fig-value">{_esc(record.value)}</span>'),
        (
            f"{record.measure} {record.unit}",
            f'{_esc(record.measure)} <span class="rag-meta">{_esc(record.unit)}</span>',
        ),
        (record.subject.lower(), _esc(record.subject) or '<span class="rag-not-stated">—</span>'),
        (record.place.lower(), place),
        (period_key(record.period), period),
        (
            record.title.lower(),
            f'<span class="rag-title">{_esc(record.title)}</span>'
            f'<span class="rag-meta">{_esc(_byline(record))}</span>'
            '<details class="rag-context"><summary>Sentence in context</summary>'
            f"{render_source(record, article)}</details>",
        ),
    )
    labels = [f' data-label="{name}"' if named else "" for name, _, named in _COLUMNS]
    row = "".join(
        f'<td data-key="{_esc(key)}"{label}>{cell}</td>'
        for (key, cell), label in zip(cells, labels, strict=True)
    )
    line = csv_line([getattr(record, name) for name in CSV_FIELDS])
    return f'<tr data-csv="{_esc(line)}">{row}</tr>'


def render_table(records: Sequence[FigureRecord], articles: Mapping[str, Article]) -> str:
    """The figures as a table sorted by a click on a column's name (`FIGURES_JS`); each row
    carries its CSV line, so that the download holds the rows shown, in the order shown."""
    head = "".join(
        f'<th scope="col" data-type="{kind}" aria-sort="none">'
        f'<button type="button" data-column="{n}">{name}</button></th>'
        for n, (name, kind, _) in enumerate(_COLUMNS)
    )
    rows = "".join(_row(r, articles.get(r.doc_id)) for r in records)
    return (
        f'<div class="rag-fig-rows" data-csv-header="{_esc(csv_line(CSV_FIELDS))}">'
        '<table class="rag-fig-table"><caption>The figures that match the filters; a column’s '
        "name sorts by it, a second click the other way.</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def render_figures(
    records: Sequence[FigureRecord], articles: Mapping[str, Article], *, filtered: str = ""
) -> str:
    """The Figures tab's body: how many match (`filtered` says by what), the charts, then the
    table with its CSV download."""
    shown = list(records[:TABLE_LIMIT])
    count = f"{len(records):,} figure{'s' if len(records) != 1 else ''}{filtered}"
    if not records:
        return (
            f'<div class="rag-figures"><p class="rag-fig-count" role="status">No figure'
            f"{_esc(filtered)}. Loosen a filter to see more.</p></div>"
        )
    cut = f"; the first {len(shown):,} are listed" if len(shown) < len(records) else ""
    return (
        f'<div class="rag-figures"><p class="rag-fig-count" role="status">{_esc(count)}{cut}. '
        "Only figures of one measure in one unit share a chart; open a bar for its sentence."
        f"</p>{render_charts(shown, articles)}"
        '<div class="rag-fig-tools"><button type="button" class="rag-fig-csv">Download CSV '
        f"({len(shown):,} rows as shown)</button></div>{render_table(shown, articles)}</div>"
    )
