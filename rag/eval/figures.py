"""`rag eval --figures`: the figures table scored against figures labelled by hand."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..answer.figures import MEASURES
from ..answer.table import FigureRecord, figure_records
from ..ingest.corpus import load_corpus
from ..settings import __version__
from ..types import Article
from .data import GoldError
from .metrics import squad_normalize, token_f1

GOLD_FIGURE_KEYS = ("doc_id", "value", "start", "end", "number", "unit", "measure", "subject",
                    "place", "period")  # fmt: skip
_EXAMPLE = (
    '{"doc_id": "article-stem", "value": "15 percent", "start": 312, "end": 322, "number": 15, '
    '"unit": "percent", "measure": "growth", "subject": "total online retail sales", '
    '"place": "Xinjiang", "period": "H1 2024"}'
)
# The fields compared on every figure found, in the order the table shows them.
FIELDS = ("measure", "unit", "subject", "place", "period")
FIGURE_METRICS = (
    ("gold", "gold figures", "figures labelled by hand", "int"),
    ("predicted", "table figures", "figures in the table of the gold's articles", "int"),
    ("value_precision", "value precision",
     "share of table figures that overlap a gold figure of the same number", "rate"),
    ("value_recall", "value recall",
     "share of gold figures overlapped by a table figure of the same number", "rate"),
    ("value_unit_precision", "value+unit precision",
     "value precision counting only figures whose unit agrees too", "rate"),
    ("value_unit_recall", "value+unit recall",
     "value recall counting only figures whose unit agrees too", "rate"),
    ("measure_accuracy", "measure accuracy",
     "share of found figures with the gold measure (growth, share, amount, level)", "rate"),
    ("unit_accuracy", "unit accuracy",
     "share of found figures with the gold unit (a count's unit compared by its last word, "
     "singular: 'collaboration intentions' agrees with 'intentions')", "rate"),
    ("subject_accuracy", "subject accuracy",
     "share of found figures whose subject holds the gold subject's words or is held in them, "
     "or has token F1 >= 0.5 with it", "rate"),
    ("subject_f1", "subject token F1", "mean token F1 of the subject with the gold's", "rate"),
    ("place_accuracy", "place accuracy",
     "share of found figures with the gold place (case aside; '' = none named)", "rate"),
    ("period_accuracy", "period accuracy",
     "share of found figures with the gold period, as the table writes it ('H1 2024')", "rate"),
)  # fmt: skip


@dataclass(frozen=True)
class GoldFigure:
    """One figure labelled by hand: where it stands, its number and what it means."""

    doc_id: str
    value: str
    start: int
    end: int
    number: float
    unit: str
    measure: str
    subject: str
    place: str
    period: str


@dataclass(frozen=True)
class FigureRow:
    """A gold figure and the table figure found for it (None: missed), or a table figure that
    no gold figure is (gold None), with each field's verdict."""

    gold: GoldFigure | None
    found: FigureRecord | None
    agrees: dict[str, bool]  # field -> whether it agrees; empty unless both are there
    subject_f1: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        found = None
        if self.found is not None:
            found = {k: v for k, v in asdict(self.found).items() if k != "sentence"}
        return {
            "gold": asdict(self.gold) if self.gold else None,
            "found": found,
            "agrees": self.agrees,
            "subject_f1": round(self.subject_f1, 4),
        }


@dataclass(frozen=True)
class FiguresReport:
    """The figures eval of one gold file: a flat summary (`FIGURE_METRICS`) and every row."""

    source: str
    summary: dict[str, float]
    rows: tuple[FigureRow, ...]


def read_gold_figures(
    path: str | os.PathLike[str], articles: Sequence[Article]
) -> list[GoldFigure]:
    """The gold figures of a JSONL file, checked against `articles`: each names an article
    and the offsets of its value there. GoldError names FILE:LINE and the fix."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"gold figures file {str(path)!r} not found; one example line: "
                                f"{_EXAMPLE}")  # fmt: skip
    texts = {a.doc_id: a.text for a in articles}
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
            figure = GoldFigure(**{key: row[key] for key in GOLD_FIGURE_KEYS})
        except (ValueError, KeyError, TypeError) as exc:
            raise GoldError(f"{where}: {exc}; each line is an object such as {_EXAMPLE}") from None
        if figure.doc_id not in texts:
            raise GoldError(f"{where}: no article {figure.doc_id!r} in the corpus; pass the "
                            "folder its articles are in with --corpus")  # fmt: skip
        if texts[figure.doc_id][figure.start : figure.end] != figure.value:
            raise GoldError(f"{where}: the article's text at {figure.start}-{figure.end} is not "
                            f"{figure.value!r}; fix the offsets")  # fmt: skip
        if figure.measure not in MEASURES:
            raise GoldError(f"{where}: measure must be one of {', '.join(MEASURES)}")
        out.append(figure)
    return out


def evaluate_figures(
    records: Sequence[FigureRecord], gold: Sequence[GoldFigure], source: str = ""
) -> FiguresReport:
    """Match the table's `records` to the `gold` figures (same article, overlapping offsets,
    largest overlap first, one to one) and score values, units and each field."""
    docs = {g.doc_id for g in gold}
    records = [r for r in records if r.doc_id in docs]  # the gold file labels these articles
    pairs = sorted(
        (
            (min(g.end, r.end) - max(g.start, r.start), gi, ri)
            for gi, g in enumerate(gold)
            for ri, r in enumerate(records)
            if g.doc_id == r.doc_id and max(g.start, r.start) < min(g.end, r.end)
        ),
        reverse=True,
    )
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for _, gi, ri in pairs:
        if gi not in matched and ri not in taken and _same_number(gold[gi], records[ri]):
            matched[gi] = ri
            taken.add(ri)
    rows = [_row(g, records[matched[gi]] if gi in matched else None) for gi, g in enumerate(gold)]
    rows += [FigureRow(None, r, {}) for ri, r in enumerate(records) if ri not in taken]
    return FiguresReport(source, _summary(rows, len(gold), len(records)), tuple(rows))


def _same_number(gold: GoldFigure, record: FigureRecord) -> bool:
    return math.isclose(gold.number, record.number, rel_tol=1e-9, abs_tol=1e-9)


def _row(gold: GoldFigure, found: FigureRecord | None) -> FigureRow:
    if found is None:
        return FigureRow(gold, None, {})
    f1 = token_f1(found.subject, [gold.subject]) if gold.subject or found.subject else 1.0
    agrees = {
        "measure": found.measure == gold.measure,
        "unit": _unit_key(found.unit) == _unit_key(gold.unit),
        "subject": f1 >= 0.5 or _contained(found.subject, gold.subject),
        "place": found.place.casefold() == gold.place.casefold(),
        "period": found.period == gold.period,
    }
    return FigureRow(gold, found, agrees, f1)


def _unit_key(unit: str) -> str:
    """A unit's last word, singular: "square meters" and "square-meter" agree, and so do
    "collaboration intentions" and "intentions"."""
    words = re.split(r"[\s-]+", unit.strip().lower()) or [""]
    last = words[-1]
    return last[:-1] if last.endswith("s") and not last.endswith("ss") else last


def _contained(found: str, gold: str) -> bool:
    """Whether one subject's words all stand in the other's (none are empty)."""
    a, b = set(squad_normalize(found).split()), set(squad_normalize(gold).split())
    return bool(a and b) and (a <= b or b <= a)


def _summary(rows: Sequence[FigureRow], gold: int, predicted: int) -> dict[str, float]:
    found = [row for row in rows if row.gold is not None and row.found is not None]
    with_unit = sum(row.agrees["unit"] for row in found)
    summary: dict[str, float] = {
        "gold": gold,
        "predicted": predicted,
        "value_precision": _rate(len(found), predicted),
        "value_recall": _rate(len(found), gold),
        "value_unit_precision": _rate(with_unit, predicted),
        "value_unit_recall": _rate(with_unit, gold),
    }
    for field in FIELDS:
        summary[f"{field}_accuracy"] = _rate(sum(row.agrees[field] for row in found), len(found))
    summary["subject_f1"] = _rate(sum(row.subject_f1 for row in found), len(found))
    return summary


def _rate(part: float, whole: int) -> float:
    return part / whole if whole else 0.0


def run_figures(
    gold_path: str, corpus: str | None, out: str | os.PathLike[str], command: str
) -> FiguresReport:
    """Score the figures table of `corpus` (default: the gold file's folder) against the gold
    file, print the table, write report.json and report.md to `out`."""
    folder = Path(corpus) if corpus else Path(gold_path).parent
    articles = load_corpus(folder).articles
    gold = read_gold_figures(gold_path, articles)
    report = evaluate_figures(figure_records(articles), gold, source=str(gold_path))
    print(format_figures(report))
    written = write_figures_report(report, out, corpus=str(folder), command=command)
    print(f"wrote {', '.join(p.name for p in written)} to {out}")
    return report


def figures_table(report: FiguresReport) -> list[tuple[str, str]]:
    """(label, value) for each metric of `FIGURE_METRICS`."""
    return [
        (label, f"{int(report.summary[key]):,}" if kind == "int" else f"{report.summary[key]:.3f}")
        for key, label, _, kind in FIGURE_METRICS
    ]


def format_figures(report: FiguresReport) -> str:
    """The summary as an aligned table for the terminal, then the gold figures missed."""
    table = figures_table(report)
    width = max(len(label) for label, _ in table)
    lines = [f"{'metric':<{width}}  {'figures':>8}", f"{'-' * width}  {'-' * 8}"]
    lines += [f"{label:<{width}}  {value:>8}" for label, value in table]
    missed = [row.gold for row in report.rows if row.gold is not None and row.found is None]
    if missed:
        lines.append(f"missed: {'; '.join(f'{g.value} ({g.doc_id})' for g in missed)}")
    return "\n".join(lines)


def write_figures_report(
    report: FiguresReport, out_dir: str | os.PathLike[str], *, corpus: str, command: str
) -> list[Path]:
    """report.json (settings, summary, definitions, one row per gold and per extra figure) and
    report.md (the table and every disagreement) in `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "gold": report.source,
        "corpus": corpus,
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": __version__,
        "metrics": {key: definition for key, _, definition, _ in FIGURE_METRICS},
    }
    data = {**meta, "summary": report.summary, "rows": [row.to_dict() for row in report.rows]}
    paths = [out / "report.json", out / "report.md"]
    paths[0].write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths[1].write_text(_markdown(report, meta), encoding="utf-8")
    return paths


def _markdown(report: FiguresReport, meta: dict[str, Any]) -> str:
    lines = ["# Figures evaluation", "", f"- gold: `{meta['gold']}`",
             f"- corpus: `{meta['corpus']}`", f"- command: `{meta['command']}`",
             f"- created: {meta['created']}, rag {meta['version']}", "",
             "| metric | value |", "| --- | ---: |"]  # fmt: skip
    lines += [f"| {label} | {value} |" for label, value in figures_table(report)]
    lines += ["", "## Disagreements", "", "| article | gold | table | fields that differ |",
              "| --- | --- | --- | --- |"]  # fmt: skip
    for row in report.rows:
        wrong = [f for f, ok in row.agrees.items() if not ok]
        if row.gold is not None and row.found is not None and not wrong:
            continue
        doc = (row.gold or row.found).doc_id
        gold = _cell(row.gold) if row.gold else "(not a gold figure)"
        found = _cell(row.found) if row.found else "(missed)"
        lines.append(f"| {doc} | {gold} | {found} | {', '.join(wrong)} |")
    return "\n".join(lines) + "\n"


def _cell(figure: GoldFigure | FigureRecord) -> str:
    return "; ".join(
        [f"{figure.value} ({figure.unit}, {figure.measure})", figure.subject or "–",
         figure.place or "–", figure.period or "–"]
    ).replace("|", "/")  # fmt: skip
