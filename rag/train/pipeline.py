"""`rag train --reader`: lists prepared, the reader trained, blended with the trees, exported."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..answer.reader import READER_FILE
from ..index.store import file_sha256
from .export import export_reader, export_span
from .perturb import add_perturbed
from .reader import TrainingSettings, encode_row, split_lists, train_reader
from .reader_data import prepare
from .span import SpanTraining, train_span


def train_and_export(
    train_file: str | os.PathLike[str] | None,
    abstain_file: str | os.PathLike[str] | None,
    work: Path,
    settings: TrainingSettings,
    *,
    articles: int = 120,
    swapped: int = 0,
    export_only: bool = False,
    out: Path = READER_FILE,
) -> dict[str, Any]:
    """Every step, each skipped when its output is already in `work`; returns the manifest.

    `swapped` unanswerable lists made from answerable ones (`perturb.py`) join the lists."""
    lists = work / "lists.jsonl"
    final = work / "final"
    if not export_only:
        if not lists.is_file():
            candidates = work / "candidates.jsonl"
            if not candidates.is_file():
                prepare(
                    train_file,
                    abstain_file,
                    candidates,
                    articles=articles,
                    seed=settings.seed,
                    answerable_share=settings.answerable_share,
                )
            add_perturbed(candidates, lists, swapped, settings.seed)
        if not final.is_dir():
            train_reader(lists, work, settings)
    if not final.is_dir():
        raise FileNotFoundError(f"no finished reader in {final}; run `rag train --reader` first")
    trained = TrainingSettings(
        **{
            k: v
            for k, v in json.loads((final / "settings.json").read_text()).items()
            if k in TrainingSettings.__dataclass_fields__
        }
    )
    blend = fit_blend(final, lists, trained)
    # The threshold is kept from the reader being replaced until `rag eval --calibrate` sets it.
    manifest_path = out.with_name("reader.json")
    previous = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    fp32 = work / "fp32" / "reader.onnx"  # not shipped: for `rag eval --reader-model` only
    manifest = export_reader(final, out, fp32_copy=fp32)
    manifest.update(
        blend=blend,
        threshold=previous.get("threshold", 0.5),
        threshold_note=previous.get("threshold_note", "not calibrated yet"),
    )
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    fp32_manifest = {**manifest, "sha256": file_sha256(fp32), "bytes": fp32.stat().st_size}
    fp32.with_name("reader.json").write_text(json.dumps(fp32_manifest, indent=1) + "\n")
    return manifest


# Weights of the trees' log-odds against the reader's tried for the blend's ranking.
TREE_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(31))


def fit_blend(checkpoint: Path, lists: Path, settings: TrainingSettings) -> dict[str, Any]:
    """How the reader's and the trees' log-odds combine, fitted on the held-out lists.

    Two steps, because ranking and calibration want different fits: the ratio of the two
    log-odds that puts the right sentence first most often on the held-out answerable lists
    (a pointwise fit weighs every row alike and ranks worse), then a logistic fit of the labels
    on that one score, so that its probability is calibrated.
    """
    from sklearn.linear_model import LogisticRegression

    from ..answer.reader import load_tokenizer
    from .model import reader_model_class
    from .reader import read_rows

    held, _ = split_lists(lists, settings)
    rows = [r for group in held for r in group]
    tokenizer = load_tokenizer()
    model = reader_model_class().from_checkpoint(checkpoint)
    reader, _ = read_rows(model, [encode_row(tokenizer, r, settings.max_length) for r in rows])
    tree = np.array([r.tree for r in rows]).clip(1e-6, 1 - 1e-6)
    trees = np.log(tree / (1 - tree))
    y = np.array([r.label for r in rows])
    bounds = np.cumsum([0] + [len(group) for group in held])
    lists_with_answer = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if y[a:b].any()]

    def hit_at_1(score: np.ndarray) -> float:
        return float(np.mean([y[a + int(np.argmax(score[a:b]))] for a, b in lists_with_answer]))

    hits = {w: hit_at_1(reader + w * trees) for w in TREE_WEIGHTS}
    weight = max(hits, key=lambda w: (hits[w], -w))  # ties: the least weight on the trees
    fit = LogisticRegression(C=1.0).fit((reader + weight * trees)[:, None], y)
    scale = float(fit.coef_[0][0])
    return {
        "reader": round(scale, 5),
        "trees": round(scale * weight, 5),
        "bias": round(float(fit.intercept_[0]), 5),
        "note": (
            f"trees weight {weight} of {len(TREE_WEIGHTS)} tried: held-out hit@1 "
            f"{hits[weight]:.3f} (reader alone {hits[0.0]:.3f}); calibrated on {len(rows)} rows "
            f"of {len(held)} held-out training lists"
        ),
    }


def train_span_and_export(
    files: list[str | os.PathLike[str]],
    work: Path,
    *,
    layers: int = SpanTraining.layers,
    max_length: int = SpanTraining.max_length,
    seed: int = SpanTraining.seed,
    export_only: bool = False,
) -> dict[str, Any]:
    """Train the span model in `work` (resuming; skipped when finished), then export it to
    `work`/span.int8.onnx, where `rag train --reader` starts from."""
    final = work / "final"
    if not export_only and not final.is_dir():
        train_span(files, work, SpanTraining(layers=layers, max_length=max_length, seed=seed))
    if not final.is_dir():
        raise FileNotFoundError(f"no finished span model in {final}; run `rag train --span` first")
    return export_span(final, work / "span.int8.onnx")
