"""The scorer's boosted trees: numpy inference equals scikit-learn's, and survives JSON."""

from __future__ import annotations

import json

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from rag.answer.trees import TREE_PARAMS, Forest, fit_forest


def _interaction_data(n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    # The label depends on a product of two columns: no linear scorer can rank it.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    y = ((x[:, 0] * x[:, 1] > 0) ^ (rng.random(n) < 0.05)).astype(float)
    return x, y


def test_forest_decision_equals_scikit_learn() -> None:
    x, y = _interaction_data()
    forest = fit_forest(x, y)
    reference = HistGradientBoostingClassifier(**TREE_PARAMS).fit(x, y)
    np.testing.assert_allclose(forest.decision(x), reference.decision_function(x), atol=1e-9)
    assert len(forest.roots) == TREE_PARAMS["max_iter"]


def test_forest_learns_an_interaction_and_round_trips_through_json() -> None:
    x, y = _interaction_data()
    forest = fit_forest(x[:3000], y[:3000])
    accuracy = ((forest.decision(x[3000:]) > 0) == y[3000:]).mean()
    assert accuracy > 0.85  # a logistic regression scores about 0.5 here
    again = Forest.from_json(json.loads(json.dumps(forest.to_json())))
    np.testing.assert_allclose(again.decision(x), forest.decision(x), atol=1e-5)
