"""One photo analysed (faces, quality, embedding), and two analysed photos compared."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from verification.face.engine import FaceEngine
from verification.face.geometry import DetectedFace
from verification.face.images import ImageBGR
from verification.face.matching import (
    DEFAULT_THRESHOLDS,
    Embedding,
    MatchDecision,
    Thresholds,
    cosine_similarity,
    decide,
)
from verification.face.quality import DEFAULT_QUALITY, QualityConfig, QualityReport, assess_quality


@dataclass(frozen=True, slots=True)
class FaceAnalysis:
    quality: QualityReport
    embedding: Embedding | None  # present when exactly one face was found, whatever its quality


@dataclass(frozen=True, slots=True)
class FaceVerification:
    """`decision` is None when the photos could not be compared: see the quality reports' issues."""

    score: float | None
    decision: MatchDecision | None
    reference: QualityReport
    probe: QualityReport


def analyze_image(engine: FaceEngine, image: ImageBGR, quality: QualityConfig = DEFAULT_QUALITY) -> FaceAnalysis:
    faces = engine.detect(image)
    report = assess_quality(image, faces, quality)
    embedding = engine.embed(image, report.face) if report.face is not None else None
    return FaceAnalysis(quality=report, embedding=embedding)


def analysis_of_detections(
    image: ImageBGR,
    faces: Sequence[DetectedFace],
    embedding: Embedding | None,
    quality: QualityConfig = DEFAULT_QUALITY,
) -> FaceAnalysis:
    """`analyze_image` for an image whose faces were already detected (and the one face embedded, as
    `liveness.observe_frame` does): the quality checks only, no second detection or embedding."""
    report = assess_quality(image, faces, quality)
    return FaceAnalysis(quality=report, embedding=embedding if report.face is not None else None)


def compare_analyses(
    reference: FaceAnalysis, probe: FaceAnalysis, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> FaceVerification:
    """Score and decide when both photos passed their quality checks; otherwise no decision."""
    if (
        not (reference.quality.passed and probe.quality.passed)
        or reference.embedding is None
        or probe.embedding is None
    ):
        return FaceVerification(score=None, decision=None, reference=reference.quality, probe=probe.quality)
    score = cosine_similarity(reference.embedding, probe.embedding)
    return FaceVerification(
        score=score if math.isfinite(score) else None,
        decision=decide(score, thresholds),
        reference=reference.quality,
        probe=probe.quality,
    )
