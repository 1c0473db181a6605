"""The presentation-attack detection adapter: one small protocol, the active challenge as its default.

A certified PAD vendor (ISO/IEC 30107-3, iBeta level 1 or 2) plugs in by implementing
`PresentationAttackDetector`; `method` is recorded with every decision so that an auditor can tell
which one judged it, and `certified` says whether a pass may count as certified presentation-attack
detection (the service's `IDV_FACE_VERIFY_WITHOUT_REVIEW` reads it). A vendor with passive detection
issues an empty challenge and is given its frames as a single group. The document's portrait is passed
along so that a detector can refuse it as a live frame. The HTTP adapter for a vendor, which runs the
active challenge beside it, lives in the service (`service.face.pad`): nothing here talks to a network.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Protocol

from verification.face.images import ImageBGR
from verification.face.liveness import (
    DEFAULT_LIVENESS,
    METHOD,
    ChallengeAction,
    LivenessConfig,
    LivenessResult,
    check_challenge,
    new_challenge,
)
from verification.face.pool import FacePool


class PresentationAttackDetector(Protocol):
    @property
    def method(self) -> str:
        """A stable name and version, recorded with decisions (e.g. "active-challenge-v2")."""
        ...

    @property
    def certified(self) -> bool:
        """True only for a detector certified to ISO/IEC 30107-3 (its results carry `certified`)."""
        ...

    def new_challenge(self, rng: random.Random) -> list[ChallengeAction]:
        """What to ask the person to do, in order (empty for passive detection)."""
        ...

    async def assess(
        self,
        challenge: Sequence[ChallengeAction],
        frames_per_action: Sequence[Sequence[ImageBGR]],
        document: ImageBGR | None = None,
    ) -> LivenessResult:
        """Judge the frames captured for each action of the challenge (none of which may be `document`)."""
        ...


class ActiveChallengeDetector:
    """The default detector: our active head-movement challenge (not certified PAD, see `liveness`)."""

    def __init__(self, pool: FacePool, config: LivenessConfig = DEFAULT_LIVENESS) -> None:
        self._pool = pool
        self._config = config

    @property
    def method(self) -> str:
        return METHOD

    @property
    def certified(self) -> bool:
        return False

    def new_challenge(self, rng: random.Random) -> list[ChallengeAction]:
        return new_challenge(rng)

    async def assess(
        self,
        challenge: Sequence[ChallengeAction],
        frames_per_action: Sequence[Sequence[ImageBGR]],
        document: ImageBGR | None = None,
    ) -> LivenessResult:
        images = [frame for frames in frames_per_action for frame in frames]
        if document is not None:
            images.append(document)
        observed = await asyncio.gather(*(self._pool.observe(image) for image in images))
        portrait = observed.pop() if document is not None else None
        grouped, start = [], 0
        for frames in frames_per_action:
            grouped.append(observed[start : start + len(frames)])
            start += len(frames)
        # The judgement itself is arithmetic on a few numbers per frame: no need to leave the event loop.
        return check_challenge(challenge, grouped, self._config, portrait)
