"""A whole answer detects and embeds each of its images once: the quality of the document and the first
frame is judged on the liveness checks' detections (`bench/face.py` measures what that saves)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from service.face.verification import assess_answer
from tests.arrange.photos import photo
from verification.face.analysis import FaceAnalysis
from verification.face.images import ImageBGR
from verification.face.liveness import ChallengeAction, FrameObservation
from verification.face.matching import DEFAULT_THRESHOLDS, MatchDecision
from verification.face.models import LoadedModels
from verification.face.pool import FacePool
from verification.face.presentation import ActiveChallengeDetector
from verification.face.quality import DEFAULT_QUALITY, QualityConfig


class CountingPool(FacePool):
    """Counts the images that get a detection and an embedding."""

    observed = 0
    analyzed = 0

    async def observe(self, image: ImageBGR) -> FrameObservation:
        self.observed += 1
        return await super().observe(image)

    async def analyze(self, image: ImageBGR, quality: QualityConfig = DEFAULT_QUALITY) -> FaceAnalysis:
        self.analyzed += 1
        return await super().analyze(image, quality)


@pytest.fixture
async def pool(models: LoadedModels) -> AsyncIterator[CountingPool]:
    counting = CountingPool(workers=2, models=models)
    yield counting
    counting.close()


async def test_a_genuine_answer_detects_each_image_once(pool: CountingPool) -> None:
    frames = [[photo("obama.jpg"), photo("obama2.jpg")], [photo("obama4.jpg")]]
    actions = [ChallengeAction.TURN_RIGHT, ChallengeAction.MOVE_CLOSER]
    assessed = await assess_answer(
        pool, ActiveChallengeDetector(pool), DEFAULT_THRESHOLDS, actions, photo("obama3.jpg"), frames
    )
    assert (pool.observed, pool.analyzed) == (4, 0)  # 3 frames and the document, nothing twice
    assert assessed.reference.quality.passed and assessed.live.quality.passed
    assert assessed.outcome is not None and assessed.outcome.decision is MatchDecision.ACCEPT
    # The same analysis as a separate pass would give.
    again = await pool.analyze(photo("obama.jpg"))
    assert again.quality == assessed.live.quality
    assert again.embedding is not None and assessed.live.embedding is not None
    assert np.allclose(again.embedding, assessed.live.embedding, atol=1e-6)
