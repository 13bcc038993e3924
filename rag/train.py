"""Fit the composer's sentence scorer on SQuAD v1.1 training data (`rag train`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .compose import FEATURES, MODE_FEATURES, MODES, WEIGHTS_FILE, load_scorer
from .dense import Embedder
from .evaluate import contains_answer, read_squad, squad_cache_dir, write_squad_corpus


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns [bias, weights...]."""
    design = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(design.shape[1])
    penalty = np.eye(len(w)) * l2
    penalty[0, 0] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def training_rows(assistant, pairs, mode: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Feature rows and labels (the sentence holds a gold answer) for every candidate."""
    sets = assistant.candidate_sets([p.question for p in pairs], mode)
    rows, labels, groups = [], [], []
    for number, (pair, cands) in enumerate(zip(pairs, sets, strict=True)):
        for candidate, row in zip(cands.candidates, cands.matrix, strict=True):
            rows.append(row)
            labels.append(float(contains_answer(candidate.text, pair.answers)))
            groups.append(number)
    return np.asarray(rows), np.asarray(labels), groups


def train(
    squad_file: str | os.PathLike[str],
    out: str | os.PathLike[str] = WEIGHTS_FILE,
    *,
    embedder: Embedder | None = None,
    l2: float = 1.0,
) -> dict[str, Any]:
    """Train one scorer per retrieval mode and write them into `out`, keeping its threshold."""
    from .assistant import Assistant

    squad = read_squad(squad_file)
    pairs = [p for p in squad.pairs if p.answerable]
    embedder = embedder or Embedder()
    cache = squad_cache_dir(squad_file)
    write_squad_corpus(squad, cache / "corpus")
    assistant = Assistant.from_corpus(cache / "corpus", cache / "index", embedder=embedder)
    previous = json.loads(Path(out).read_text()) if Path(out).is_file() else {}
    result: dict[str, Any] = {
        "note": f"Logistic regression per mode, trained by `rag train` on {Path(squad_file).name} "
        f"({len(pairs)} questions), L2={l2}.",
        "threshold": previous.get("threshold", 0.5),
        "threshold_note": previous.get("threshold_note", ""),
        "modes": {},
        "training": {},
    }
    for mode in MODES:
        x, y, groups = training_rows(assistant, pairs, mode)
        columns = [FEATURES.index(name) for name in MODE_FEATURES[mode]]
        w = fit_logistic(x[:, columns], y, l2=l2)
        result["modes"][mode] = {"bias": round(float(w[0]), 5)} | {
            name: round(float(v), 5) for name, v in zip(MODE_FEATURES[mode], w[1:], strict=True)
        }
        result["training"][mode] = {
            "rows": int(len(y)),
            "positives": int(y.sum()),
            "hit@1": _hit_at_1(x[:, columns], y, groups, w),
        }
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    load_scorer.cache_clear()
    return result


def _hit_at_1(x: np.ndarray, y: np.ndarray, groups: list[int], w: np.ndarray) -> float:
    logits = w[0] + x @ w[1:]
    best: dict[int, tuple[float, float]] = {}
    for group, logit, label in zip(groups, logits, y, strict=True):
        if group not in best or logit > best[group][0]:
            best[group] = (logit, label)
    return round(sum(label for _, label in best.values()) / max(len(best), 1), 4)
