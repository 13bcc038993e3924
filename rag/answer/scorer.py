"""Sentence scorers: the seam the composer rates candidates through, the trees and the reader."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ReaderError
from ..settings import Mode
from .features import FEATURES, CandidateSet
from .reader import READER_FILE, READER_MANIFEST, Reader, ReaderInput
from .trees import Forest

WEIGHTS_FILE = Path(__file__).parents[1] / "scorer.json"  # rag/: the package's data
# From this confidence an answer is rated "high" where calibration has not set the level
# ("high_threshold", written by `rag eval --calibrate` beside the abstention threshold).
HIGH_CONFIDENCE = 0.7


class SentenceScorer(Protocol):
    """Rates each candidate of a question: the probability that its sentence answers it."""

    threshold: float  # below this top probability the composer abstains
    high_threshold: float  # from this one its answer is rated "high"
    source: Path  # the file that holds the thresholds

    def probabilities(self, cands: CandidateSet, mode: Mode) -> np.ndarray: ...


@dataclass(frozen=True)
class TreeScorer:
    """Boosted trees per mode over the candidates' features, and the abstention threshold."""

    threshold: float
    forests: dict[str, Forest]
    features: dict[str, tuple[str, ...]]  # the FEATURES columns each mode's trees read
    source: Path = WEIGHTS_FILE  # where `rag eval --calibrate` writes the thresholds
    high_threshold: float = HIGH_CONFIDENCE

    @classmethod
    def load(cls, path: str | os.PathLike[str] = WEIGHTS_FILE) -> TreeScorer:
        """The trees in `path` (`rag train` writes them, `rag eval --calibrate` the threshold)."""
        path = Path(path)
        data = json.loads(path.read_text())
        modes = data["modes"]
        for mode, part in modes.items():
            if not {"features", "trees"} <= part.keys() or not set(part["features"]) <= set(
                FEATURES
            ):
                raise ValueError(
                    f"{path}: mode {mode!r} is not a scorer this version can use (it needs trees "
                    "over known features); retrain it with `rag train --squad FILE`"
                )
        return cls(
            threshold=float(data["threshold"]),
            forests={mode: Forest.from_json(part["trees"]) for mode, part in modes.items()},
            features={mode: tuple(part["features"]) for mode, part in modes.items()},
            source=path,
            high_threshold=float(data.get("high_threshold", HIGH_CONFIDENCE)),
        )

    def logits(self, matrix: np.ndarray, mode: Mode) -> np.ndarray:
        """The trees' log-odds for each feature row."""
        columns = [FEATURES.index(name) for name in self.features[mode]]
        return self.forests[mode].decision(matrix[:, columns])

    def probabilities(self, cands: CandidateSet, mode: Mode) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(cands.matrix, mode)))


# The trees' best few are read by the reader; the rest keep the trees' order beneath them.
READ_TOP = 5


@dataclass(frozen=True)
class ReaderScorer:
    """A cascade: the trees rank every candidate, the reader reads their best `top`.

    The probability is a logistic blend of the reader's and the trees' log-odds, with weights
    fitted on held-out training questions when the reader was exported (`rag train --reader`).
    """

    trees: TreeScorer
    reader: Reader
    weights: tuple[float, float, float]  # reader logit, trees logit, bias
    threshold: float
    top: int = READ_TOP
    source: Path = READER_MANIFEST
    high_threshold: float = HIGH_CONFIDENCE

    @classmethod
    def load(
        cls,
        trees: TreeScorer | None = None,
        model: Path = READER_FILE,
        reader: Reader | None = None,
    ) -> ReaderScorer:
        """The reader in `model` (or `reader`, already loaded) over the packaged trees;
        ReaderError when its file is damaged."""
        reader = reader or Reader(model)
        model = reader.model
        blend = reader.manifest.get("blend")
        if not blend or "threshold" not in reader.manifest:
            raise ReaderError(
                f"{model.with_name('reader.json')} has no blend weights or threshold; export "
                "the reader with `rag train --reader` and calibrate it with `rag eval --squad "
                "DEV --calibrate`"
            )
        weights = (float(blend["reader"]), float(blend["trees"]), float(blend["bias"]))
        return cls(
            trees or TreeScorer.load(),
            reader,
            weights,
            float(reader.manifest["threshold"]),
            source=model.with_name("reader.json"),
            high_threshold=float(reader.manifest.get("high_threshold", HIGH_CONFIDENCE)),
        )

    def probabilities(self, cands: CandidateSet, mode: Mode) -> np.ndarray:
        tree_logits = self.trees.logits(cands.matrix, mode)
        read = np.argsort(-tree_logits, kind="stable")[: self.top]
        items = [
            ReaderInput(c.title, c.previous, c.text, c.next)
            for c in (cands.candidates[i] for i in read)
        ]
        reader_logits = np.full(len(tree_logits), np.nan)
        readings = self.reader.read(cands.analysis.text, items)
        reader_logits[read] = [r.logit for r in readings]
        # Unread candidates rank below the read ones, as the trees ranked them: each is given the
        # worst reading among those read.
        reader_logits[np.isnan(reader_logits)] = np.nanmin(reader_logits)
        w_reader, w_trees, bias = self.weights
        return 1.0 / (1.0 + np.exp(-(w_reader * reader_logits + w_trees * tree_logits + bias)))


def load_scorer(
    kind: str = "trees", reader_model: Path = READER_FILE, reader: Reader | None = None
) -> SentenceScorer:
    """A packaged scorer: "trees" (the boosted trees) or "reader" (the trees, then the reader
    in `reader_model`, or `reader` when one is loaded already)."""
    if kind == "trees":
        return TreeScorer.load()
    if kind == "reader":
        return ReaderScorer.load(model=Path(reader_model), reader=reader)
    raise ValueError(f"scorer kind must be 'reader' or 'trees'; got {kind!r}")
