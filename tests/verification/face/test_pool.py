"""The pool: the same results as the engine, off the event loop, and the active challenge through it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from tests.arrange.photos import photo
from verification.face.engine import FaceEngine
from verification.face.liveness import METHOD, ChallengeAction, LivenessIssue
from verification.face.matching import MatchDecision
from verification.face.models import LoadedModels
from verification.face.pool import FacePool
from verification.face.presentation import ActiveChallengeDetector, PresentationAttackDetector
from verification.face.quality import QualityIssue


@pytest.fixture
async def pool(models: LoadedModels) -> AsyncIterator[FacePool]:
    face_pool = FacePool(workers=2, models=models)
    yield face_pool
    face_pool.close()


async def test_the_self_test_passes_on_a_worker(pool: FacePool) -> None:
    assert await pool.self_test() > 0.99


async def test_two_photos_of_one_person_are_accepted(pool: FacePool) -> None:
    result = await pool.verify(photo("obama.jpg"), photo("obama4.jpg"))
    assert result.decision is MatchDecision.ACCEPT
    assert result.score is not None
    assert result.score >= 0.5


async def test_two_people_are_rejected(pool: FacePool) -> None:
    result = await pool.verify(photo("obama.jpg"), photo("person_b_1.jpg"))
    assert result.decision is MatchDecision.REJECT


async def test_a_photo_that_fails_quality_is_not_compared(pool: FacePool) -> None:
    result = await pool.verify(photo("obama.jpg"), photo("messi5.jpg"))
    assert (result.score, result.decision) == (None, None)
    assert result.probe.issues == (QualityIssue.FACE_TOO_SMALL,)


async def test_the_pool_gives_the_engines_results(pool: FacePool, engine: FaceEngine) -> None:
    image = photo("person_a_2.jpg")
    faces = await pool.detect(image)
    assert faces == engine.detect(image)
    assert (await pool.embed(image, faces[0])) == pytest.approx(engine.embed(image, faces[0]), abs=1e-6)


async def test_concurrent_calls_each_use_their_own_engine(pool: FacePool, engine: FaceEngine) -> None:
    names = ["obama.jpg", "obama2.jpg", "biden.jpg", "person_b_1.jpg", "person_c_1.jpg", "astronaut.png"] * 2
    analyses = await asyncio.gather(*(pool.analyze(photo(name)) for name in names))
    for name, analysis in zip(names, analyses, strict=True):
        image = photo(name)
        expected = engine.embed(image, engine.detect(image)[0])
        assert analysis.embedding == pytest.approx(expected, abs=1e-6), name


async def test_a_closed_pool_takes_no_work(models: LoadedModels) -> None:
    face_pool = FacePool(workers=1, models=models)
    face_pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        await face_pool.detect(photo("obama.jpg"))


async def test_the_active_challenge_runs_through_the_adapter(pool: FacePool) -> None:
    """Genuine frames are different real photos of one person: straight on, turned right, closer."""
    detector: PresentationAttackDetector = ActiveChallengeDetector(pool)
    assert len(detector.new_challenge(random.Random(3))) in (2, 3)
    assert not detector.certified
    challenge = [ChallengeAction.TURN_RIGHT, ChallengeAction.MOVE_CLOSER]
    neutral, right, closer = photo("obama.jpg"), photo("obama2.jpg"), photo("obama4.jpg")

    result = await detector.assess(challenge, [[neutral, right], [closer]], photo("obama3.jpg"))
    assert result.confident, result
    assert result.method == detector.method == METHOD

    still = await detector.assess(challenge, [[neutral, neutral], [neutral]])
    assert LivenessIssue.FRAMES_REUSED in still.reason_codes and not still.passed
    portrait = await detector.assess(challenge, [[neutral, right], [closer]], neutral)
    assert portrait.reason_codes[0] is LivenessIssue.DOCUMENT_REUSED
