"""Comparing two face embeddings, and the three-way decision on the score.

Defaults, chosen from measurement (`python -m verification.face.evaluate`, on shared/faces/pairs.csv):

- reject below 0.363: OpenCV Zoo's published cosine threshold for SFace, where it reports 99.60 % accuracy
  on LFW; below it two faces are more likely different people than the same.
- accept from 0.50: above every impostor pair we could measure with a wide margin (highest impostor 0.26),
  and below every genuine pair (lowest genuine 0.60, two photos of one person taken years apart, one of them
  a 73 px face).
- in between: review by a person.

The measured set is tiny (8 genuine and 58 impostor pairs from 14 photos) and its people are famous,
so likely in SFace's training data: it shows the models behave, it does not estimate error rates. With no
error in 58 impostor pairs the false-accept rate at 0.50 is below 5 % with 95 % confidence (rule of three),
nothing tighter. Raising `accept` trades more reviews for fewer false accepts; revisit both numbers on a
demographically broad set of our own users' consented, labelled pairs before relying on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

Embedding = npt.NDArray[np.float32]

PUBLISHED_SFACE_COSINE_THRESHOLD = 0.363


class MatchDecision(StrEnum):
    ACCEPT = "accept"
    REVIEW = "review"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Scores at or above `accept` accept; below `reject` reject; in between go to review."""

    accept: float = 0.50
    reject: float = PUBLISHED_SFACE_COSINE_THRESHOLD

    def __post_init__(self) -> None:
        if not (-1.0 <= self.reject <= self.accept <= 1.0):
            raise ValueError(f"need -1 <= reject <= accept <= 1, got reject={self.reject}, accept={self.accept}")


DEFAULT_THRESHOLDS = Thresholds()


def cosine_similarity(a: Embedding, b: Embedding) -> float:
    """Cosine of the angle between two embeddings, in [-1, 1]; NaN when either is zero or not finite."""
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm == 0.0 or not math.isfinite(norm):
        return math.nan
    return max(-1.0, min(1.0, float(np.dot(a, b)) / norm))


def decide(score: float, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> MatchDecision:
    """Accept, review or reject a similarity score. A score that is not a number is rejected."""
    if not math.isfinite(score) or score < thresholds.reject:
        return MatchDecision.REJECT
    if score >= thresholds.accept:
        return MatchDecision.ACCEPT
    return MatchDecision.REVIEW
