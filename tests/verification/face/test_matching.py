"""Scores on real pairs against the default thresholds, and the three-way decision."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from tests.arrange.photos import pairs
from verification.face.matching import (
    DEFAULT_THRESHOLDS,
    Embedding,
    MatchDecision,
    Thresholds,
    cosine_similarity,
    decide,
)

GENUINE = [(a, b) for a, b, same in pairs() if same]
IMPOSTOR = [(a, b) for a, b, same in pairs() if not same]


def test_the_pair_list_has_both_kinds() -> None:
    assert (len(GENUINE), len(IMPOSTOR)) == (8, 58)


@pytest.mark.parametrize(("image_a", "image_b"), GENUINE)
def test_every_genuine_pair_is_accepted(embedding_of: Callable[[str], Embedding], image_a: str, image_b: str) -> None:
    score = cosine_similarity(embedding_of(image_a), embedding_of(image_b))
    assert score >= DEFAULT_THRESHOLDS.accept
    assert decide(score) is MatchDecision.ACCEPT


def test_every_impostor_pair_is_rejected(embedding_of: Callable[[str], Embedding]) -> None:
    scores = {(a, b): cosine_similarity(embedding_of(a), embedding_of(b)) for a, b in IMPOSTOR}
    above = {pair: round(score, 3) for pair, score in scores.items() if score >= DEFAULT_THRESHOLDS.reject}
    assert above == {}
    assert all(decide(score) is MatchDecision.REJECT for score in scores.values())


def test_a_reencode_or_crop_of_one_photo_scores_above_two_photos_of_one_person(
    embedding_of: Callable[[str], Embedding],
) -> None:
    """The controls of shared/faces: not independent photos, so far more similar than any genuine pair."""
    best_genuine = max(cosine_similarity(embedding_of(a), embedding_of(b)) for a, b in GENUINE)
    assert cosine_similarity(embedding_of("32bit.png"), embedding_of("obama2.jpg")) > max(0.95, best_genuine)
    assert cosine_similarity(embedding_of("obama_partial_face.jpg"), embedding_of("obama.jpg")) > best_genuine


@pytest.mark.parametrize(
    ("score", "decision"),
    [
        (1.0, MatchDecision.ACCEPT),
        (0.50, MatchDecision.ACCEPT),
        (0.4999, MatchDecision.REVIEW),
        (0.363, MatchDecision.REVIEW),
        (0.3629, MatchDecision.REJECT),
        (-1.0, MatchDecision.REJECT),
        (math.nan, MatchDecision.REJECT),
    ],
)
def test_the_decision_band(score: float, decision: MatchDecision) -> None:
    assert decide(score, Thresholds(accept=0.50, reject=0.363)) is decision


def test_equal_thresholds_leave_no_review_band() -> None:
    thresholds = Thresholds(accept=0.4, reject=0.4)
    assert decide(0.4, thresholds) is MatchDecision.ACCEPT
    assert decide(0.3999, thresholds) is MatchDecision.REJECT


@pytest.mark.parametrize(("accept", "reject"), [(0.3, 0.5), (1.5, 0.3), (0.5, -2.0)])
def test_inconsistent_thresholds_are_refused(accept: float, reject: float) -> None:
    with pytest.raises(ValueError, match="reject <= accept"):
        Thresholds(accept=accept, reject=reject)


def test_cosine_similarity() -> None:
    a = np.array([1.0, 0.0], dtype=np.float32)
    b = np.array([3.0, 3.0], dtype=np.float32)
    assert cosine_similarity(a, a) == pytest.approx(1.0)
    assert cosine_similarity(a, -a) == pytest.approx(-1.0)
    assert cosine_similarity(a, b) == pytest.approx(math.sqrt(0.5))
    assert math.isnan(cosine_similarity(a, np.zeros(2, dtype=np.float32)))
