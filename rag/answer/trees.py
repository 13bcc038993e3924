"""Gradient-boosted decision trees: fitted by scikit-learn at training time, applied with numpy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Fixed so that `rag train` is reproducible; chosen on squad1_train_subset.json against the
# SQuAD 2.0 development file (hit@1 0.802-0.804 for 100-400 trees, 15-31 leaves: a plateau).
TREE_PARAMS: dict[str, Any] = {
    "max_iter": 150,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "early_stopping": False,  # its validation split is random: training would not reproduce
    "random_state": 0,
}


_NODE_INDICES = ("roots", "feature", "left", "right")


@dataclass(frozen=True)
class Forest:
    """Boosted trees flattened into node arrays; `decision` sums one leaf per tree."""

    baseline: float
    roots: np.ndarray  # node index of each tree's root
    feature: np.ndarray  # column a split node tests (unused at leaves)
    threshold: np.ndarray  # rows with value <= threshold go left
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray  # leaf value (0 at split nodes)
    leaf: np.ndarray  # bool
    depth: int  # the deepest leaf, so `decision` knows when every row has reached one

    def decision(self, x: np.ndarray) -> np.ndarray:
        """Log-odds for each row of `x` (rows, features)."""
        x = np.asarray(x, dtype=np.float64)
        rows = np.arange(len(x))
        node = np.repeat(self.roots[:, None], len(x), axis=1)  # (trees, rows)
        for _ in range(self.depth):
            values = x[rows, self.feature[node]]
            step = np.where(values <= self.threshold[node], self.left[node], self.right[node])
            node = np.where(self.leaf[node], node, step)
        return self.baseline + self.value[node].sum(axis=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "depth": self.depth,
            "roots": self.roots.tolist(),
            "feature": self.feature.tolist(),
            "threshold": self.threshold.tolist(),
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "value": [round(v, 7) for v in self.value.tolist()],
            "leaf": self.leaf.astype(int).tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Forest:
        ints = {k: np.asarray(data[k], dtype=np.int32) for k in _NODE_INDICES}
        return cls(
            baseline=float(data["baseline"]),
            threshold=np.asarray(data["threshold"], dtype=np.float64),
            value=np.asarray(data["value"], dtype=np.float64),
            leaf=np.asarray(data["leaf"], dtype=bool),
            depth=int(data["depth"]),
            **ints,
        )


def fit_forest(x: np.ndarray, y: np.ndarray, **params: Any) -> Forest:
    """Fit scikit-learn's HistGradientBoostingClassifier on (x, y) and flatten its trees."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(**(TREE_PARAMS | params)).fit(x, y)
    names = ("feature", "threshold", "left", "right", "value", "leaf")
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    roots, offset, depth = [], 0, 0
    for (predictor,) in model._predictors:  # one tree per iteration for a binary target
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported; one-hot encode instead")
        leaf = nodes["is_leaf"].astype(bool)
        roots.append(offset)
        parts["feature"].append(nodes["feature_idx"].astype(np.int32))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        parts["left"].append(np.where(leaf, 0, nodes["left"] + offset).astype(np.int32))
        parts["right"].append(np.where(leaf, 0, nodes["right"] + offset).astype(np.int32))
        parts["value"].append(np.where(leaf, nodes["value"], 0.0))
        parts["leaf"].append(leaf)
        depth = max(depth, int(nodes["depth"].max()))
        offset += len(nodes)
    return Forest(
        baseline=float(np.ravel(model._baseline_prediction)[0]),
        roots=np.asarray(roots, dtype=np.int32),
        depth=depth,
        **{k: np.concatenate(v) for k, v in parts.items()},
    )
