"""Fit the composer's sentence scorer on SQuAD v1.1 training data (`rag train`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..answer.features import FEATURES, MODE_FEATURES
from ..answer.retrieve import candidate_sets
from ..answer.scorer import WEIGHTS_FILE
from ..answer.trees import TREE_PARAMS, fit_forest
from ..eval.data import read_squad, squad_cache_dir, write_squad_corpus
from ..eval.metrics import contains_answer
from ..eval.report import dump_json
from ..index.embed import Embedder
from ..index.index import Index
from ..settings import Mode, Settings


def training_rows(
    index: Index, embedder: Embedder, pairs, mode: Mode
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Feature rows and labels (the sentence holds a gold answer) for every candidate."""
    sets = candidate_sets(index, embedder, [p.question for p in pairs], mode, Settings())
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
) -> dict[str, Any]:
    """Train one scorer per retrieval mode and write them into `out`, keeping its threshold."""
    squad = read_squad(squad_file)
    pairs = [p for p in squad.pairs if p.answerable]
    embedder = embedder or Embedder()
    cache = squad_cache_dir(squad_file)
    write_squad_corpus(squad, cache / "corpus")
    previous = json.loads(Path(out).read_text()) if Path(out).is_file() else {}
    threshold = previous.get("threshold", 0.5)
    # The index alone: building it never reads the scorer being replaced.
    index = Index.for_corpus(cache / "corpus", cache / "index", embedder, Settings())
    params = ", ".join(f"{k}={v}" for k, v in TREE_PARAMS.items())
    result: dict[str, Any] = {
        "note": f"Gradient-boosted trees per mode (scikit-learn HistGradientBoostingClassifier, "
        f"{params}), trained by `rag train` on {Path(squad_file).name} ({len(pairs)} questions).",
        "threshold": threshold,
        "threshold_note": previous.get("threshold_note", ""),
        "training": {},
        "modes": {},
    }
    for mode in Mode:
        x, y, groups = training_rows(index, embedder, pairs, mode)
        columns = [FEATURES.index(name) for name in MODE_FEATURES[mode]]
        forest = fit_forest(x[:, columns], y)
        result["training"][mode.value] = {
            "rows": int(len(y)),
            "positives": int(y.sum()),
            "hit@1": _hit_at_1(forest.decision(x[:, columns]), y, groups),
        }
        result["modes"][mode.value] = {
            "features": list(MODE_FEATURES[mode]),
            "trees": forest.to_json(),
        }
    Path(out).write_text(dump_json(result) + "\n")
    return result


def _hit_at_1(logits: np.ndarray, y: np.ndarray, groups: list[int]) -> float:
    best: dict[int, tuple[float, float]] = {}
    for group, logit, label in zip(groups, logits, y, strict=True):
        if group not in best or logit > best[group][0]:
            best[group] = (logit, label)
    return round(sum(label for _, label in best.values()) / max(len(best), 1), 4)
