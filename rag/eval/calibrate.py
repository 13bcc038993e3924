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
from .metrics import CALIBRATION_OBJECTIVE, CurvePoint, choose_threshold, coverage_curve, fmt
from .report import dump_json
from .run import EvalReport


@dataclass(frozen=True)
class Calibration:
    """The threshold chosen on a development set and what it gives there."""

    threshold: float
    point: CurvePoint
    previous: float
    source: str
    mode: str
    top_k: int

    def note(self) -> str:
        """The provenance written next to the threshold in scorer.json."""
        p = self.point
        date = datetime.now(timezone.utc).date().isoformat()
        return (
            f"Chosen by `rag eval --calibrate` on {Path(self.source).name or 'the gold pairs'} "
            f"(mode {self.mode}, top-k {self.top_k}) on {date}: coverage {fmt(p.coverage)}, "
            f"accuracy {fmt(p.accuracy)}, answered & correct {fmt(p.answered_correct)} of "
            f"answerable, abstain recall {fmt(p.abstain_recall)}; objective: "
            f"{CALIBRATION_OBJECTIVE}."
        )

    def line(self) -> str:
        """One line for the terminal."""
        p = self.point
        return (
            f"calibrated threshold {self.threshold:.4f} (was {self.previous:.4f}) on "
            f"{Path(self.source).name or 'the gold pairs'}, {self.mode}: coverage "
            f"{fmt(p.coverage)}, accuracy {fmt(p.accuracy)}, answered & correct "
            f"{fmt(p.answered_correct)}, abstain recall {fmt(p.abstain_recall)}"
        )


def calibrate_threshold(report: EvalReport) -> Calibration:
    """Choose the abstention threshold on `report`'s questions (see `choose_threshold`).

    Candidates are the observed confidences, so each distinct decision is tried exactly once.
    """
    confidences = [r.confidence for r in report.rows]
    candidates = sorted({min(max(c, 0.0), 1.0) for c in confidences} | {0.0, 1.0})
    points = coverage_curve(
        confidences, [r.hit(1) for r in report.rows], [r.answerable for r in report.rows],
        candidates,
    )
    best = choose_threshold(points)
    return Calibration(best.threshold, best, report.threshold, report.source, report.mode,
                       report.top_k)


def write_threshold(
    threshold: float, note: str, scorer: str | os.PathLike[str] = WEIGHTS_FILE
) -> Path:
    """Set "threshold" and "threshold_note" in the scorer JSON, keeping every other key."""
    path = Path(scorer)
    if not 0.0 <= threshold <= 1.0:
        raise SettingsError(f"threshold must be within [0, 1], got {threshold!r}")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    updated: dict[str, Any] = {}
    for key, value in data.items():
        if key == "threshold_note":
            continue
        updated[key] = value
        if key == "threshold":
            updated[key] = threshold
            updated["threshold_note"] = note
    if "threshold" not in updated:
        updated.update(threshold=threshold, threshold_note=note)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dump_json(updated) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    return path

