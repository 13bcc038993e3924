"""Calibration: the abstention threshold chosen on a gold set and written into the scorer."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..answer.scorer import WEIGHTS_FILE
from ..errors import SettingsError
from .metrics import (
    CALIBRATION_OBJECTIVE,
    HIGH_ACCURACY,
    CurvePoint,
    choose_high,
    choose_threshold,
    coverage_curve,
    fmt,
)
from .report import dump_json
from .run import EvalReport


@dataclass(frozen=True)
class Calibration:
    """The thresholds chosen on a development set, one per confidence level, and what each
    gives there: below `threshold` it abstains ("low"), from `high` its answers are right
    HIGH_ACCURACY of the time ("high"), and between them it answers at "medium"."""

    threshold: float
    point: CurvePoint
    previous: float
    source: str
    mode: str
    top_k: int
    high_point: CurvePoint | None = None  # None: no threshold reached HIGH_ACCURACY

    @property
    def high(self) -> float:
        """From this confidence answers are rated high (1.0: none is)."""
        return 1.0 if self.high_point is None else self.high_point.threshold

    def note(self) -> str:
        """The provenance written next to the threshold in scorer.json."""
        p = self.point
        date = datetime.now(timezone.utc).date().isoformat()
        return (
            f"Chosen by `rag eval --calibrate` on {Path(self.source).name or 'the gold pairs'} "
            f"(mode {self.mode}, top-k {self.top_k}) on {date}: coverage {fmt(p.coverage)}, "
            f"accuracy {fmt(p.accuracy)}, answered & correct {fmt(p.answered_correct)} of "
            f"answerable, abstain recall {fmt(p.abstain_recall)}; objective: "
            f"{CALIBRATION_OBJECTIVE}. {self._high_words()}"
        )

    def _high_words(self) -> str:
        if self.high_point is None:
            return f"No threshold reached accuracy {HIGH_ACCURACY:.0%}: no answer is rated high."
        h = self.high_point
        return (
            f"High from {self.high:.4f}: accuracy {fmt(h.accuracy)} at coverage "
            f"{fmt(h.coverage)} (at least {HIGH_ACCURACY:.0%} of those answers right)."
        )

    def line(self) -> str:
        """One line for the terminal."""
        p = self.point
        return (
            f"calibrated threshold {self.threshold:.4f} (was {self.previous:.4f}) on "
            f"{Path(self.source).name or 'the gold pairs'}, {self.mode}: coverage "
            f"{fmt(p.coverage)}, accuracy {fmt(p.accuracy)}, answered & correct "
            f"{fmt(p.answered_correct)}, abstain recall {fmt(p.abstain_recall)}; "
            f"{self._high_words()}"
        )


def calibrate_threshold(report: EvalReport) -> Calibration:
    """Choose the abstention threshold on `report`'s questions (see `choose_threshold`), and
    above it the threshold of high confidence (`choose_high`).

    Candidates are the observed confidences, so each distinct decision is tried exactly once.
    """
    confidences = [r.confidence for r in report.rows]
    candidates = sorted({min(max(c, 0.0), 1.0) for c in confidences} | {0.0, 1.0})
    points = coverage_curve(
        confidences,
        [r.hit(1) for r in report.rows],
        [r.answerable for r in report.rows],
        candidates,
    )
    best = choose_threshold(points)
    return Calibration(
        best.threshold,
        best,
        report.threshold,
        report.source,
        report.mode,
        report.top_k,
        high_point=choose_high(points, best.threshold),
    )


def write_threshold(
    threshold: float,
    note: str,
    scorer: str | os.PathLike[str] = WEIGHTS_FILE,
    high: float | None = None,
) -> Path:
    """Set "threshold" and "threshold_note" in the scorer JSON, and "high_threshold" after
    them when `high` is given, keeping every other key."""
    path = Path(scorer)
    for name, value in (("threshold", threshold), ("high threshold", high)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise SettingsError(f"{name} must be within [0, 1], got {value!r}")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    updated: dict[str, Any] = {}
    levels = {"threshold": threshold, "threshold_note": note}
    if high is not None:
        levels["high_threshold"] = high
    for key, value in data.items():
        if key == "threshold":  # the levels stay where the threshold was
            updated.update(levels)
        elif key not in levels:
            updated[key] = value
    if "threshold" not in updated:
        updated.update(levels)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dump_json(updated) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    return path
