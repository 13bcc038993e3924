"""Scorers: the trees behind the seam, and their file format."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer.compose import select
from rag.answer.features import MODE_FEATURES, CandidateSet, features
from rag.answer.question import analyze
from rag.answer.scorer import TreeScorer
from rag.settings import Mode
from tests.answer.test_features import FESTIVAL, LIVE, RURAL, candidate


def test_scorer_ranks_the_answer_sentence_first() -> None:
    analysis = analyze("How much did Xinjiang live-streaming sales grow?")
    cands = [candidate(0, FESTIVAL, 0.2), candidate(1, RURAL, 0.5), candidate(2, LIVE, 0.7)]
    cands_set = CandidateSet(analysis, cands, features(analysis, cands, lambda t: 1.0))
    probabilities = TreeScorer.load().probabilities(cands_set, Mode.HYBRID)
    assert np.all((0 <= probabilities) & (probabilities <= 1))
    assert select(cands, probabilities, 3)[0] == 2


def test_every_mode_has_trained_trees_for_its_features() -> None:
    scorer = TreeScorer.load()
    assert 0.0 < scorer.threshold < 1.0
    for mode in Mode:
        assert scorer.features[mode] == MODE_FEATURES[mode]
        forest = scorer.forests[mode]
        assert forest.feature[~forest.leaf].max() < len(MODE_FEATURES[mode])


def test_an_old_or_foreign_scorer_file_says_to_retrain(tmp_path) -> None:
    path = tmp_path / "scorer.json"
    path.write_text(json.dumps({"threshold": 0.3, "modes": {"hybrid": {"bias": -1.0}}}))
    with pytest.raises(ValueError, match="retrain it with `rag train"):
        TreeScorer.load(path)


