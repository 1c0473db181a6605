"""whoami and the profile say how the face was verified, so that relying apps can choose: by the
checks alone or by a person, and by which presentation-attack detection, certified or not.

Genuine answers are different real photos of one person (see `test_face_api`)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import timedelta

import asyncpg
import httpx
import msgspec

from service.runtime import Runtime
from service.sessions import store as sessions_store
from tests.arrange.operators import claim_and_decide
from tests.arrange.photos import photo
from tests.face.arrange import DOCUMENT, answer, challenge, jpeg, live_frames, ready
from tests.helpers import enrolled_operator
from verification.face.images import ImageBGR
from verification.face.liveness import ChallengeAction, LivenessResult
from verification.face.presentation import PresentationAttackDetector


class _CertifiedVendor:
    """A stand-in for a certified PAD vendor's adapter: it judges through the built-in challenge but
    calls itself certified, as a vendor's adapter would (only the adapter's own claim is exercised)."""

    def __init__(self, inner: PresentationAttackDetector) -> None:
        self._inner = inner

    @property
    def method(self) -> str:
        return "vendor-pad-test-1"

    @property
    def certified(self) -> bool:
        return True

    def new_challenge(self, rng: random.Random) -> list[ChallengeAction]:
        return self._inner.new_challenge(rng)

    async def assess(
        self,
        challenge: Sequence[ChallengeAction],
        frames_per_action: Sequence[Sequence[ImageBGR]],
        document: ImageBGR | None = None,
    ) -> LivenessResult:
        result = await self._inner.assess(challenge, frames_per_action, document)
        return dataclasses.replace(result, method=self.method, certified=True)


async def _told(client: httpx.AsyncClient, me: dict[str, str]) -> tuple[object, str, object]:
    """(whoami's face_verification, its X-Idv-Face-Verified-By header, the profile's face_verification)."""
    whoami = await client.get("/v1/sessions/whoami", headers=me)
    head = await client.head("/v1/sessions/whoami", headers=me)
    assert head.headers["x-idv-face-verified-by"] == whoami.headers["x-idv-face-verified-by"]
    profile = (await client.get("/v1/me", headers=me)).json()
    return (
        whoami.json()["assurance"]["face_verification"],
        whoami.headers["x-idv-face-verified-by"],
        profile["face_verification"],
    )


async def test_an_automatic_verification_is_told_with_its_detector_and_in_doubt_nothing_is(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    assert await _told(client, me) == (None, "none", None)
    answered = await answer(client, me, await challenge(client, db, me), jpeg(photo(DOCUMENT)), live_frames())
    assert answered.json()["status"] == "verified"
    decided_at = answered.json()["decided_at"]
    expected = {"method": "automatic", "pad": "active-challenge-v2", "certified_pad": False, "verified_at": decided_at}
    assert await _told(client, me) == (expected, "automatic", expected)

    # An operator doubts the account: nothing it proved is vouched for, how the face was verified neither.
    account_id = (await client.get("/v1/sessions/whoami", headers=me)).json()["account_id"]
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    restricted = await client.post(
        f"/v1/operator/accounts/{account_id}/restriction",
        json={"reason_code": "identity_in_doubt"},
        headers=senior.headers,
    )
    assert restricted.status_code == 200, restricted.text
    assert await _told(client, me) == (None, "none", None)


async def test_a_verification_a_person_approved_says_so(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    issued = await challenge(client, db, me)
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_verify_without_review="never")
    try:
        answered = await answer(client, me, issued, jpeg(photo(DOCUMENT)), live_frames())
    finally:
        runtime.settings = configured
    assert answered.json()["status"] == "in_review"
    assert await _told(client, me) == (None, "none", None)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    await client.post(f"/v1/operator/cases/{issued['case_id']}/claim", headers=reviewer.headers)
    await claim_and_decide(client, reviewer, issued["case_id"], "approve", "evidence_consistent")
    whoami, header, profile = await _told(client, me)
    assert header == "operator" and whoami == profile
    assert isinstance(whoami, dict) and (whoami["method"], whoami["pad"], whoami["certified_pad"]) == (
        "operator_review",
        "active-challenge-v2",
        False,
    )
    assert whoami["verified_at"] is not None


async def test_a_certified_detector_is_told_apart(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    built_in = runtime.liveness
    runtime.liveness = _CertifiedVendor(built_in)
    try:
        answered = await answer(client, me, await challenge(client, db, me), jpeg(photo(DOCUMENT)), live_frames())
    finally:
        runtime.liveness = built_in
    assert answered.json()["status"] == "verified"
    whoami, header, profile = await _told(client, me)
    assert header == "automatic_certified_pad" and whoami == profile
    assert isinstance(whoami, dict) and (whoami["method"], whoami["pad"], whoami["certified_pad"]) == (
        "automatic",
        "vendor-pad-test-1",
        True,
    )


async def test_whoami_stays_one_query_and_reads_the_face_part_through_an_index(db: asyncpg.Connection) -> None:
    """The face part of whoami's one query looks verified attempts up by their own partial index."""
    await db.execute("SET enable_seqscan = off")
    rows = await db.fetch("EXPLAIN " + sessions_store.RESOLVE, b"\0" * 32, timedelta(hours=1), [], [])
    plan = "\n".join(row[0] for row in rows)
    assert "face_verifications_verified_idx" in plan, plan
