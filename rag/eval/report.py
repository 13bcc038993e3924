"""Reports: the tables, report.json/report.md and the plots of an evaluation."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..answer.question import analyze
from ..settings import __version__
from .metrics import (
    CURVE_DEFINITION,
    METRICS,
    PRIMARY_METRIC,
    CurvePoint,
    exact_match,
    fmt,
    token_f1,
)
from .run import EvalReport


def dump_json(value: Any, indent: int = 0, lead: int = 0, width: int = 100) -> str:
    """JSON that keeps nested values on one line when they fit, as scorer.json is laid out.

    A list of plain values (the scorer's tree arrays) always stays on one line.
    """
    compact = json.dumps(value, ensure_ascii=False)
    flat = isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)
    if not isinstance(value, (dict, list)) or flat or (indent and lead + len(compact) < width):
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, list):
        inner = [pad + dump_json(v, indent + 2, len(pad), width) for v in value]
        return "[\n" + ",\n".join(inner) + "\n" + " " * indent + "]"
    inner = []
    for key, item in value.items():
        head = f"{pad}{json.dumps(key, ensure_ascii=False)}: "
        inner.append(head + dump_json(item, indent + 2, len(head), width))
    return "{\n" + ",\n".join(inner) + "\n" + " " * indent + "}"


# --- output ---------------------------------------------------------------------------------


def summary_table(reports: Mapping[str, EvalReport]) -> list[list[str]]:
    """Rows of [metric, value per mode], the header first."""
    table = [["metric", *reports]]
    for key, label, _, kind in METRICS:
        cells = []
        for report in reports.values():
            cell = fmt(report.summary.get(key), kind)
            if key == "index_seconds" and not report.index_built and cell != "–":
                cell += " (loaded)"
            cells.append(cell)
        table.append([label.replace("@k", f"@{_first(reports).top_k}"), *cells])
    return table


def _first(reports: Mapping[str, EvalReport]) -> EvalReport:
    return next(iter(reports.values()))


def format_table(reports: Mapping[str, EvalReport]) -> str:
    """The summary as an aligned plain-text table for the terminal."""
    table = summary_table(reports)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                          strict=True)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    first = _first(reports)
    lines.append(f"(top-k {first.top_k}, threshold {first.threshold:.4f})")
    return "\n".join(lines)


def markdown_table(reports: Mapping[str, EvalReport]) -> str:
    """The summary as a Markdown table."""
    return "\n".join(_markdown_rows(summary_table(reports)))


def _markdown_rows(table: list[list[str]]) -> list[str]:
    """A table's lines in Markdown: the first row its header, the other columns numbers."""
    lines = ["| " + " | ".join(table[0]) + " |", "| --- |" + " ---: |" * (len(table[0]) - 1)]
    return lines + ["| " + " | ".join(row) + " |" for row in table[1:]]


def short_answer_kinds(report: EvalReport) -> list[dict[str, Any]]:
    """Short answers by the kind of answer asked for (the composer's answer type): over the
    answerable questions whose first sentence holds a gold answer, EM, F1 and the share
    marked by the figure rules rather than the reader."""
    groups: dict[str, list] = {}
    for row in report.rows:
        if row.answerable and row.hit(1):
            groups.setdefault(analyze(row.question).answer_type, []).append(row)
    out = []
    for kind, rows in sorted(groups.items(), key=lambda item: -len(item[1])):
        by_rule = [
            bool(r.evidence[0].short_answer and r.evidence[0].short_answer.source != "reader")
            for r in rows
        ]
        out.append({
            "kind": kind,
            "questions": len(rows),
            "short_em": round(float(np.mean([exact_match(r.short_answer, r.answers)
                                             for r in rows])), 4),
            "short_f1": round(float(np.mean([token_f1(r.short_answer, r.answers)
                                             for r in rows])), 4),
            "by_rule": round(float(np.mean(by_rule)), 4),
        })
    return out


def gold_kinds(report: EvalReport) -> list[dict[str, Any]]:
    """Figures by the kind the gold file gives each question ("growth", "metadata"): answered
    and correct (first sentence right, not abstained) and short-answer EM over its answerable
    questions, abstentions over its unanswerable ones. Empty when no question has a kind."""
    groups: dict[str, list] = {}
    for row in report.rows:
        if row.kind:
            groups.setdefault(row.kind, []).append(row)
    out = []
    for kind, rows in groups.items():
        gold = [r for r in rows if r.answerable]
        never = [r for r in rows if not r.answerable]
        out.append({
            "kind": kind,
            "questions": len(rows),
            "answered_correct": _share([r.answered_correct for r in gold]),
            "short_em": _share([exact_match(r.short_answer, r.answers) for r in gold]),
            "abstained_unanswerable": _share([r.abstained for r in never]),
        })
    return out


def _share(flags: list[bool] | list[float]) -> float | None:
    return round(float(np.mean(flags)), 4) if flags else None


def format_kinds(report: EvalReport) -> str:
    """`gold_kinds` as an aligned plain-text table ("" when the gold file gives no kinds)."""
    kinds = gold_kinds(report)
    if not kinds:
        return ""
    lines = [f"{'kind':12s} {'n':>3s} {'answered & correct':>18s} {'short EM':>8s} "
             f"{'abstained (unanswerable)':>24s}"]
    for k in kinds:
        cells = [fmt(k[key]) for key in ("answered_correct", "short_em", "abstained_unanswerable")]
        lines.append(f"{k['kind']:12s} {k['questions']:3d} {cells[0]:>18s} {cells[1]:>8s} "
                     f"{cells[2]:>24s}")
    return "\n".join(lines)


def _kinds_markdown(report: EvalReport) -> list[str]:
    lines = ["| kind | questions (hit@1) | short EM | short F1 | marked by figure rule |",
             "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {k['kind']} | {k['questions']} | {k['short_em']:.3f} | {k['short_f1']:.3f} | "
              f"{k['by_rule']:.2f} |" for k in short_answer_kinds(report)]
    return lines


def definitions_markdown() -> str:
    """One line per metric, for report.md and the README."""
    lines = [f"- **{label}**: {definition}." for key, label, definition, _ in METRICS
             if key not in ("questions", "answerable", "unanswerable")]
    lines.append(f"- **curve**: {CURVE_DEFINITION}.")
    lines.append(
        "- Normalization: Unicode NFKC, casefold, punctuation dropped, symbols such as % and $ "
        "kept as tokens, numbers compared as written ('12.9%' matches '12.9 %', '1,000' does "
        "not match '1000'); a gold answer must appear as whole tokens."
    )
    return "\n".join(lines)


def plot_curve(reports: Mapping[str, EvalReport], path: str | os.PathLike[str]) -> Path:
    """PNG: accuracy and coverage against the threshold, accuracy against coverage, and the
    abstention's precision and the answered & correct it keeps against its recall."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    fig = Figure(figsize=(16, 4.5), layout="constrained")
    left, right, third = fig.subplots(1, 3)
    for n, (mode, report) in enumerate(reports.items()):
        color = f"C{n}"
        t = [p.threshold for p in report.curve]
        acc = [np.nan if p.accuracy is None else p.accuracy for p in report.curve]
        cov = [np.nan if p.coverage is None else p.coverage for p in report.curve]
        left.plot(t, acc, color=color, label=f"{mode} accuracy")
        left.plot(t, cov, color=color, linestyle="--", label=f"{mode} coverage")
        right.plot(cov, acc, color=color, label=mode)
        now = next(p for p in report.curve if p.threshold == report.threshold)
        if now.coverage is not None and now.accuracy is not None:
            right.plot([now.coverage], [now.accuracy], "o", color=color)
        recall = [np.nan if p.abstain_recall is None else p.abstain_recall for p in report.curve]
        kept = [np.nan if p.answered_correct is None else p.answered_correct for p in report.curve]
        precision = [
            np.nan if p.abstain_precision is None else p.abstain_precision for p in report.curve
        ]
        third.plot(recall, precision, color=color, label=f"{mode} abstain precision")
        third.plot(recall, kept, color=color, linestyle="--", label=f"{mode} answered & correct")
        if now.abstain_recall is not None and now.answered_correct is not None:
            third.plot([now.abstain_recall], [now.answered_correct], "o", color=color)
        high = _point_at(report, report.high_threshold)
        if high is not None and high.coverage is not None and high.accuracy is not None:
            right.plot([high.coverage], [high.accuracy], "s", color=color)
    current, high_from = _first(reports).threshold, _first(reports).high_threshold
    left.axvline(current, color="grey", linestyle=":", label=f"current threshold {current:.2f}")
    left.axvline(high_from, color="grey", linestyle="-.", label=f"high from {high_from:.2f}")
    left.set(xlabel="confidence threshold", ylabel="rate", xlim=(0, 1), ylim=(0, 1.02),
             title="Accuracy and coverage by threshold")
    right.set(xlabel="coverage (share answered)", ylabel="accuracy of answered",
              xlim=(0, 1.02), ylim=(0, 1.02),
              title=f"Coverage / accuracy (dots: threshold {current:.2f}, squares: high)")
    third.set(xlabel="abstain recall (unanswerable questions held back)", ylabel="rate",
              xlim=(0, 1.02), ylim=(0, 1.02),
              title=f"Abstaining: precision and what it keeps (dot: {current:.2f})")
    left.legend(fontsize=7, loc="lower left")
    right.legend(fontsize=8)
    third.legend(fontsize=7, loc="lower left")
    path = Path(path)
    fig.savefig(path, dpi=110)
    return path


def _point_at(report: EvalReport, threshold: float) -> CurvePoint | None:
    return next((p for p in report.curve if p.threshold == threshold), None)


def confidence_levels(report: EvalReport) -> list[list[str]]:
    """Rows of what each confidence level gives on `report`'s questions: its threshold, the
    answers given at it or above (coverage, accuracy), the unanswerable questions held back
    below it (abstention precision and recall) and answered & correct."""
    rows = [["level", "from", "coverage", "accuracy", "answered & correct",
             "abstain precision", "abstain recall"]]
    for level, threshold in (("medium", report.threshold), ("high", report.high_threshold)):
        p = _point_at(report, threshold)
        if p is None:
            continue
        rows.append([level, f"{threshold:.4f}", fmt(p.coverage), fmt(p.accuracy),
                     fmt(p.answered_correct), fmt(p.abstain_precision), fmt(p.abstain_recall)])
    return rows


def plot_hits(reports: Mapping[str, EvalReport], path: str | os.PathLike[str]) -> Path:
    """PNG: grouped bars of hit@1, hit@3, MRR, doc recall and answered & correct per mode."""
    from matplotlib.figure import Figure

    keys = ("hit@1", "hit@3", "mrr", "doc_recall@k", "answered_correct")
    labels = {key: label for key, label, *_ in METRICS}
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(reports), 1)
    x = np.arange(len(keys))
    for n, (mode, report) in enumerate(reports.items()):
        values = [report.summary.get(k) or 0.0 for k in keys]
        bars = ax.bar(x + (n - (len(reports) - 1) / 2) * width, values, width, label=mode)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    k = _first(reports).top_k
    ax.set_xticks(x, [labels[key].replace("@k", f"@{k}") for key in keys])
    ax.set(ylim=(0, 1.1), ylabel="share of answerable questions", title="hit@k by mode")
    ax.legend()
    path = Path(path)
    fig.savefig(path, dpi=110)
    return path


def write_outputs(
    reports: Mapping[str, EvalReport],
    out_dir: str | os.PathLike[str],
    *,
    corpus: str = "",
    command: str = "",
) -> list[Path]:
    """Write report.json, report.md, coverage_accuracy.png and hit_by_mode.png to `out_dir`."""
    if not reports:
        raise ValueError("no reports to write")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = _first(reports)
    meta = {
        "gold": first.source,
        "corpus": corpus,
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": __version__,
        "top_k": first.top_k,
        "threshold": first.threshold,
        "high_threshold": first.high_threshold,
        "primary_metric": PRIMARY_METRIC,
        "metrics": {key: definition for key, _, definition, _ in METRICS},
    }
    data = {**meta, "summary": {m: r.summary for m, r in reports.items()},
            "short_answer_kinds": {m: short_answer_kinds(r) for m, r in reports.items()},
            "gold_kinds": {m: gold_kinds(r) for m, r in reports.items()},
            "reports": {m: r.to_dict() for m, r in reports.items()}}
    paths = [out / "report.json", out / "report.md"]
    paths[0].write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths.append(plot_curve(reports, out / "coverage_accuracy.png"))
    paths.append(plot_hits(reports, out / "hit_by_mode.png"))
    paths[1].write_text(_report_markdown(reports, meta), encoding="utf-8")
    return paths


def _report_markdown(reports: Mapping[str, EvalReport], meta: Mapping[str, Any]) -> str:
    lines = [
        "# Evaluation report",
        "",
        f"- gold: `{meta['gold'] or '(pairs)'}`",
        f"- corpus: `{meta['corpus'] or '(given)'}`",
        f"- command: `{meta['command']}`" if meta["command"] else "",
        f"- created: {meta['created']}, rag {meta['version']}, top-k {meta['top_k']}, "
        f"abstention threshold {meta['threshold']:.4f}, high confidence from "
        f"{meta['high_threshold']:.4f}",
        "",
        "## Summary",
        "",
        markdown_table(reports),
        "",
        "![coverage / accuracy](coverage_accuracy.png)",
        "",
    ]
    for mode, report in reports.items():
        levels = confidence_levels(report)
        if len(levels) > 1:
            lines += [f"## {mode}: confidence levels", "", *_markdown_rows(levels), ""]
    lines += [
        "![hit@k by mode](hit_by_mode.png)",
        "",
        "## Metrics",
        "",
        definitions_markdown(),
        "",
    ]
    for mode, report in reports.items():
        for warning in report.warnings:
            lines.append(f"> warning ({mode}): {warning}")
        misses = [r for r in report.rows if r.answerable and not r.hit(report.top_k)]
        wrong = sorted((r for r in report.rows if not r.answerable and not r.abstained),
                       key=lambda r: -r.confidence)
        lines += [f"## {mode}: short answers by kind of question", "", *_kinds_markdown(report), ""]
        lines += [f"## {mode}: answerable questions with no gold answer in the evidence "
                  f"({len(misses)}, first 20)", ""]
        lines += [f"- `{r.id}` {r.question} — gold: {'; '.join(r.answers)} — got: "
                  f"{_short(r.evidence[0].text) if r.evidence else '(no evidence)'}"
                  for r in misses[:20]]
        lines += ["", f"## {mode}: unanswerable questions it answered ({len(wrong)}, "
                  "most confident first, first 20)", ""]
        lines += [f"- `{r.id}` ({r.confidence:.2f}) {r.question} — got: "
                  f"{_short(r.evidence[0].text) if r.evidence else '(no evidence)'}"
                  for r in wrong[:20]]
        lines.append("")
    return "\n".join(line for n, line in enumerate(lines) if line or n == 0 or lines[n - 1])


def _short(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


