"""The scorer's logistic regression recovers known weights."""

from __future__ import annotations

import numpy as np

from rag.train import fit_logistic


def test_fit_logistic_recovers_weights() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 2))
    true = np.array([-1.0, 2.0, -3.0])
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-(true[0] + x @ true[1:])))).astype(float)
    w = fit_logistic(x, y, l2=0.0)
    np.testing.assert_allclose(w, true, atol=0.15)


def test_fit_logistic_separable_data_stays_finite() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    w = fit_logistic(x, y, l2=1.0)
    assert np.all(np.isfinite(w)) and w[1] > 0
