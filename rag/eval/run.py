"""Run an evaluation: ask every gold question, summarize, and calibrate the threshold."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..settings import Mode, positive
from ..types import Answer
from .data import GoldError, GoldPair, read_gold
from .metrics import (
    LATENCY_SAMPLE,
    PRIMARY_METRIC,
    CurvePoint,
    QuestionResult,
    coverage_curve,
    result_row,
    summarize,
    threshold_grid,
)

if TYPE_CHECKING:
    from ..assistant import Assistant

BATCH_SIZE = 64




@dataclass(frozen=True)
class EvalReport:
    """Flat `summary` of metrics (primary: hit@1), one row per question, and the curve."""

    mode: str
    top_k: int
    threshold: float  # the abstention threshold the assistant used
    summary: dict[str, float | int | None]
    rows: tuple[QuestionResult, ...]
    curve: tuple[CurvePoint, ...]
    source: str = ""  # the gold file, when read from one
    high_threshold: float = 1.0  # from this confidence an answer was rated high
    index_built: bool = True  # False when the index was reloaded, not built
    warnings: tuple[str, ...] = ()
    primary_metric: ClassVar[str] = PRIMARY_METRIC

    @property
    def primary(self) -> float | None:
        return self.summary[PRIMARY_METRIC]  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, summary, curve and rows."""
        return {
            "mode": self.mode,
            "top_k": self.top_k,
            "threshold": self.threshold,
            "high_threshold": self.high_threshold,
            "source": self.source,
            "index_built": self.index_built,
            "primary_metric": self.primary_metric,
            "summary": dict(self.summary),
            "warnings": list(self.warnings),
            "curve": [asdict(p) for p in self.curve],
            "rows": [r.to_dict() for r in self.rows],
        }


def evaluate(
    assistant: Assistant,
    gold: str | os.PathLike[str] | Sequence[GoldPair],
    *,
    mode: str | None = None,
    top_k: int | None = None,
    progress: bool = False,
    batch_size: int = BATCH_SIZE,
    latency_sample: int = LATENCY_SAMPLE,
    source: str | None = None,
) -> EvalReport:
    """Ask every gold question and score the answers.

    `gold` is a gold JSONL or SQuAD JSON path, or GoldPairs. Up to `latency_sample` questions,
    evenly spread, are asked one at a time and timed; the rest go through `ask_many` in
    batches of `batch_size`, about twice as fast per question.
    """
    if isinstance(gold, (str, os.PathLike)):
        source = str(gold) if source is None else source
        pairs = read_gold(gold)
    else:
        pairs = list(gold)
    if not pairs:
        raise GoldError("no gold pairs to evaluate")
    mode = Mode.of(mode or assistant.settings.mode).value
    top_k = positive("top_k", assistant.settings.top_k if top_k is None else top_k)
    positive("batch_size", batch_size)
    known = {a.doc_id for a in assistant.articles}
    unknown = sorted({p.doc_id for p in pairs if p.doc_id is not None} - known)
    warnings = (
        (f"{len(unknown)} gold doc_id(s) not in the corpus, so never recalled: "
         + ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else ""),)
        if unknown else ()
    )
    started = time.perf_counter()
    answers, seconds = _ask_all(assistant, pairs, mode, top_k, batch_size, latency_sample,
                                progress)
    eval_seconds = time.perf_counter() - started
    rows = tuple(
        result_row(p, a, s)
        for p, a, s in zip(pairs, answers, seconds, strict=True)
        if a is not None
    )
    threshold, high = float(assistant.threshold), float(assistant.high_threshold)
    report = getattr(assistant, "build_report", None)
    summary = summarize(
        rows, index_seconds=getattr(report, "seconds", None), eval_seconds=eval_seconds
    )
    curve = coverage_curve(
        [r.confidence for r in rows], [r.hit(1) for r in rows], [r.answerable for r in rows],
        threshold_grid(threshold, high),
    )
    return EvalReport(
        mode=mode, top_k=top_k, threshold=threshold, summary=summary, rows=rows,
        curve=tuple(curve), source=source or "", high_threshold=high,
        index_built=bool(getattr(report, "rebuilt", True)), warnings=warnings,
    )


def _ask_all(
    assistant: Assistant,
    pairs: Sequence[GoldPair],
    mode: str,
    top_k: int,
    batch_size: int,
    latency_sample: int,
    progress: bool,
) -> tuple[list[Answer | None], list[float | None]]:
    """Every pair's answer, and the seconds of those asked alone to time them."""
    from tqdm.auto import tqdm

    timed = _spread(len(pairs), latency_sample)
    answers: list[Answer | None] = [None] * len(pairs)
    seconds: list[float | None] = [None] * len(pairs)
    with tqdm(total=len(pairs), desc=f"eval {mode}", unit="q", disable=not progress,
              file=sys.stderr, mininterval=0.5, leave=True) as bar:
        if timed:
            # Warm-up: the first call pays one-off costs (lazy imports, caches) no user sees twice.
            assistant.ask(pairs[timed[0]].question, top_k=top_k, mode=mode)
        for i in timed:
            t0 = time.perf_counter()
            answers[i] = assistant.ask(pairs[i].question, top_k=top_k, mode=mode)
            seconds[i] = time.perf_counter() - t0
            bar.update(1)
        chosen = set(timed)
        rest = [i for i in range(len(pairs)) if i not in chosen]
        for offset in range(0, len(rest), batch_size):
            chunk = rest[offset : offset + batch_size]
            got = assistant.ask_many([pairs[i].question for i in chunk], top_k=top_k, mode=mode)
            for i, answer in zip(chunk, got, strict=True):
                answers[i] = answer
            bar.update(len(chunk))
    return answers, seconds


def _spread(n: int, count: int) -> list[int]:
    """Up to `count` indices evenly spread over range(n)."""
    if n == 0 or count <= 0:
        return []
    if count >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (count - 1)) for i in range(count)} if count > 1 else {0})


