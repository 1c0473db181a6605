"""A certified PAD vendor behind `PresentationAttackDetector`: the HTTP adapter against a real local server
standing in for the vendor (signature, time limit, errors, malformed answers), how its verdict combines with
the built-in checks, the sandbox, and production's refusal of it.

Genuine answers are different real photos of one person (see `test_face_api`); the attack is the document's
portrait sent again as a live frame, which the built-in checks catch whatever a vendor says.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import cv2
import httpx
import numpy as np
import pytest
from litestar import Request, Response, post

from service.database.embedded import free_port
from service.face.pad import (
    SANDBOX_METHOD,
    CertifiedPadDetector,
    HttpPadVendor,
    PadRequest,
    PadUnavailable,
    SandboxPadVendor,
)
from service.face.verification import judge, may_verify_without_review
from service.runtime import Runtime, presentation_attack_detector
from service.settings import SettingsError, load_settings
from tests.arrange.photos import photo
from tests.arrange.settings import PRODUCTION
from tests.conftest import environment_for_tests
from tests.face.arrange import DOCUMENT, answer, challenge, jpeg, live_frames, ready
from tests.peers import serving, signed_by
from verification.face.images import ImageBGR
from verification.face.liveness import METHOD, ChallengeAction, LivenessIssue, Uncertainty
from verification.face.models import LoadedModels
from verification.face.pool import FacePool
from verification.face.presentation import ActiveChallengeDetector

SECRET = b"pad-vendor-shared-secret-0123456789"
VENDOR = "acme-liveness-4.2 (iBeta level 2)"
RIGHT, CLOSER = ChallengeAction.TURN_RIGHT, ChallengeAction.MOVE_CLOSER
CHALLENGE = [RIGHT, CLOSER]


def genuine() -> list[list[ImageBGR]]:
    """[turn_right, move_closer] by different real photos: straight on, turned; closer."""
    return [[photo("obama.jpg"), photo("obama2.jpg")], [photo("obama4.jpg")]]


def document_reused() -> list[list[ImageBGR]]:
    """An attacker holding the document: its portrait as the neutral frame, then the real moves."""
    return [[photo(DOCUMENT), photo("obama2.jpg")], [photo("obama4.jpg")]]


@dataclass
class Vendor:
    """Checks each request's signature as a vendor would, and answers what the test asks."""

    reply: Any = field(default_factory=lambda: {"result": "live", "reference": "acme-7f3"})
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0


@pytest.fixture
async def vendor() -> AsyncIterator[tuple[Vendor, str]]:
    state = Vendor()

    @post("/v1/liveness", status_code=200)
    async def judge_frames(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        if not signed_by(SECRET, request.headers, body):
            state.bad_signatures += 1
            return Response({"error": "bad signature"}, status_code=401)
        state.requests.append(json.loads(body))
        if state.delay:
            await asyncio.sleep(state.delay)
        if isinstance(state.reply, bytes):
            return Response(state.reply, status_code=state.status, media_type="application/json")
        return Response(state.reply, status_code=state.status)

    async with serving(judge_frames) as base:
        yield state, f"{base}/v1/liveness"


@pytest.fixture
async def pool(models: LoadedModels) -> AsyncIterator[FacePool]:
    face_pool = FacePool(workers=2, models=models)
    yield face_pool
    face_pool.close()


def detector(
    pool: FacePool, url: str, *, secret: bytes = SECRET, timeout: float = 5.0, suffices: bool = False
) -> CertifiedPadDetector:
    vendor = HttpPadVendor(url, "idv-test", secret, timeout=timeout)
    return CertifiedPadDetector(vendor, ActiveChallengeDetector(pool), None, method=VENDOR, suffices=suffices)


async def test_a_live_verdict_on_a_genuine_answer_is_a_certified_pass_that_may_verify(
    pool: FacePool, vendor: tuple[Vendor, str]
) -> None:
    state, url = vendor
    result = await detector(pool, url).assess(CHALLENGE, genuine(), photo(DOCUMENT))
    assert result.passed and result.confident and result.certified
    assert result.method == VENDOR
    assert may_verify_without_review(result, "margin") and may_verify_without_review(result, "certified_pad")
    # The vendor got the signed challenge, every frame as a JPEG it can read, and the document.
    assert state.bad_signatures == 0
    (sent,) = state.requests
    assert sent["challenge"] == ["turn_right", "move_closer"]
    assert [len(frames) for frames in sent["frames"]] == [2, 1]
    first = cv2.imdecode(np.frombuffer(base64.b64decode(sent["frames"][0][0]), np.uint8), cv2.IMREAD_COLOR)
    assert first is not None and first.shape == photo("obama.jpg").shape
    assert sent["document"] is not None and uuid.UUID(sent["request_id"])


async def test_a_vendor_pass_does_not_override_a_failed_built_in_check(
    pool: FacePool, vendor: tuple[Vendor, str]
) -> None:
    _, url = vendor
    result = await detector(pool, url).assess(CHALLENGE, document_reused(), photo(DOCUMENT))
    # Not verified without a person: an operator sees why (the built-in reason and the disagreement).
    assert result.passed and result.certified and not result.confident
    assert LivenessIssue.DOCUMENT_REUSED in result.reason_codes
    assert Uncertainty.PAD_PASSED_CHECKS_DID_NOT in result.uncertainties
    assert not may_verify_without_review(result, "margin")
    assert not may_verify_without_review(result, "certified_pad")


async def test_a_vendor_pass_decides_alone_only_when_the_settings_say_certified_pad_suffices(
    pool: FacePool, vendor: tuple[Vendor, str]
) -> None:
    _, url = vendor
    result = await detector(pool, url, suffices=True).assess(CHALLENGE, document_reused(), photo(DOCUMENT))
    assert result.passed and result.confident and result.certified
    assert may_verify_without_review(result, "certified_pad")
    assert not may_verify_without_review(result, "never")


async def test_a_spoof_verdict_fails_a_genuine_looking_answer(pool: FacePool, vendor: tuple[Vendor, str]) -> None:
    state, url = vendor
    state.reply = {"result": "spoof", "reference": "acme-7f4"}
    result = await detector(pool, url, suffices=True).assess(CHALLENGE, genuine(), photo(DOCUMENT))
    assert not result.passed and result.certified
    assert result.reason_codes == (LivenessIssue.PAD_ATTACK_DETECTED,)


@pytest.mark.parametrize(
    ("reply", "status", "doubt"),
    [
        ({"error": "overloaded"}, 503, Uncertainty.PAD_UNAVAILABLE),
        ({"error": "bad request"}, 400, Uncertainty.PAD_UNAVAILABLE),
        (b"<html>gateway</html>", 200, Uncertainty.PAD_ANSWER_INVALID),
        ({"result": "probably_live", "reference": "x"}, 200, Uncertainty.PAD_ANSWER_INVALID),
        ({"result": "live"}, 200, Uncertainty.PAD_ANSWER_INVALID),
        ({"result": True, "reference": "x"}, 200, Uncertainty.PAD_ANSWER_INVALID),
        (["live"], 200, Uncertainty.PAD_ANSWER_INVALID),
    ],
)
async def test_a_vendor_error_or_a_malformed_answer_sends_a_genuine_answer_to_review(
    pool: FacePool, vendor: tuple[Vendor, str], reply: Any, status: int, doubt: Uncertainty
) -> None:
    state, url = vendor
    state.reply, state.status = reply, status
    result = await detector(pool, url, suffices=True).assess(CHALLENGE, genuine(), photo(DOCUMENT))
    # The built-in checks' result, not certified, with the doubt that sends it to an operator.
    assert result.passed and not result.certified and not result.confident
    assert result.method == METHOD and result.uncertainties == (doubt,)
    assert not may_verify_without_review(result, "margin")


async def test_a_vendor_too_slow_is_given_up_on_in_time(pool: FacePool, vendor: tuple[Vendor, str]) -> None:
    state, url = vendor
    state.delay = 3.0
    started = time.monotonic()
    with pytest.raises(PadUnavailable, match="TimeoutError"):
        await HttpPadVendor(url, "idv-test", SECRET, timeout=1.0).judge(PadRequest(["turn_right"], [[b"jpeg"]], None))
    assert time.monotonic() - started < 2.0
    result = await detector(pool, url, timeout=1.0).assess(CHALLENGE, genuine(), photo(DOCUMENT))
    assert result.uncertainties == (Uncertainty.PAD_UNAVAILABLE,) and not result.certified


async def test_a_vendor_that_is_down_or_refuses_our_key_sends_a_genuine_answer_to_review(
    pool: FacePool, vendor: tuple[Vendor, str]
) -> None:
    state, url = vendor
    nobody = f"http://127.0.0.1:{free_port()}/v1/liveness"
    down = await detector(pool, nobody).assess(CHALLENGE, genuine(), photo(DOCUMENT))
    wrong_key = await detector(pool, url, secret=b"another-secret").assess(CHALLENGE, genuine(), photo(DOCUMENT))
    assert state.bad_signatures == 1
    for result in (down, wrong_key):
        assert result.passed and not result.certified and result.uncertainties == (Uncertainty.PAD_UNAVAILABLE,)


async def test_a_vendor_outage_does_not_help_an_attack(pool: FacePool) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/v1/liveness"
    result = await detector(pool, nobody).assess(CHALLENGE, document_reused(), photo(DOCUMENT))
    assert not result.passed and LivenessIssue.DOCUMENT_REUSED in result.reason_codes


async def test_through_the_api_a_vendor_that_is_down_sends_the_answer_to_review_not_a_5xx(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    built_in = runtime.liveness
    nobody = f"http://127.0.0.1:{free_port()}/v1/liveness"
    runtime.liveness = detector(runtime.faces, nobody)
    try:
        answered = await answer(client, me, await challenge(client, db, me), jpeg(photo(DOCUMENT)), live_frames())
    finally:
        runtime.liveness = built_in
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "in_review"
    assert "pad_unavailable" in answered.json()["reason_codes"]
    assert answered.json()["liveness_method"] == METHOD


async def test_through_the_api_a_certified_pass_is_verified_and_recorded_with_the_vendor(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, vendor: tuple[Vendor, str]
) -> None:
    _, url = vendor
    me = await ready(client, runtime)
    built_in = runtime.liveness
    runtime.liveness = detector(runtime.faces, url)
    try:
        issued = await challenge(client, db, me)
        answered = await answer(client, me, issued, jpeg(photo(DOCUMENT)), live_frames())
    finally:
        runtime.liveness = built_in
    assert f"certified presentation-attack detection vendor: {VENDOR}" in issued["liveness"]
    assert answered.json()["status"] == "verified", answered.text
    assert answered.json()["liveness_method"] == VENDOR
    row = await db.fetchrow(
        "SELECT liveness_method, pad_certified FROM face_verifications WHERE id = $1",
        uuid.UUID(issued["verification_id"]),
    )
    assert row is not None and (row["liveness_method"], row["pad_certified"]) == (VENDOR, True)


async def test_the_sandbox_says_live_and_passes_only_what_the_built_in_checks_pass(pool: FacePool) -> None:
    sandbox = CertifiedPadDetector(SandboxPadVendor(), ActiveChallengeDetector(pool), None, method=SANDBOX_METHOD)
    passed = await sandbox.assess(CHALLENGE, genuine(), photo(DOCUMENT))
    attacked = await sandbox.assess(CHALLENGE, document_reused(), photo(DOCUMENT))
    assert passed.confident and passed.certified and passed.method == SANDBOX_METHOD
    assert not attacked.confident and Uncertainty.PAD_PASSED_CHECKS_DID_NOT in attacked.uncertainties


def test_a_certified_pass_the_built_in_checks_did_not_make_goes_to_an_operator() -> None:
    from service.face.verification import _Outcome
    from verification.face.liveness import LivenessResult
    from verification.face.matching import MatchDecision, Thresholds

    doubted = LivenessResult(
        passed=True,
        reason_codes=(LivenessIssue.PLANAR_MOTION,),
        method=VENDOR,
        certified=True,
        uncertainties=(Uncertainty.PAD_PASSED_CHECKS_DID_NOT,),
    )
    judged = judge(_Outcome(doubted, 0.7, Thresholds(0.5, 0.363), MatchDecision.ACCEPT), "margin")
    assert judged.status == "in_review"
    assert judged.reason_codes == ["planar_motion", "pad_passed_checks_did_not"]


def http_environment(environment: dict[str, str]) -> dict[str, str]:
    return {
        **environment,
        "IDV_FACE_PAD": "http",
        "IDV_FACE_PAD_NAME": VENDOR,
        "IDV_FACE_PAD_URL": "https://pad.example.com/v1/liveness",
        "IDV_FACE_PAD_KEY_ID": "idv-test",
        "IDV_FACE_PAD_SECRET": base64.b64encode(SECRET).decode(),
    }


def test_settings_choose_the_detector_and_production_refuses_the_sandbox(tmp_path: Path, pool: FacePool) -> None:
    environment = environment_for_tests(tmp_path / "state")
    built_in = presentation_attack_detector(load_settings(environment), pool, None)
    assert isinstance(built_in, ActiveChallengeDetector) and not built_in.certified
    chosen = presentation_attack_detector(load_settings(http_environment(environment)), pool, None)
    assert isinstance(chosen, CertifiedPadDetector) and chosen.certified and chosen.method == VENDOR
    sandbox = presentation_attack_detector(load_settings({**environment, "IDV_FACE_PAD": "sandbox"}), pool, None)
    assert isinstance(sandbox, CertifiedPadDetector) and sandbox.method == SANDBOX_METHOD
    with pytest.raises(SettingsError, match="IDV_FACE_PAD=sandbox is a development adapter"):
        load_settings({**PRODUCTION, "IDV_STATE_DIR": str(tmp_path), "IDV_FACE_PAD": "sandbox"})
    with pytest.raises(SettingsError, match="IDV_FACE_PAD=http needs IDV_FACE_PAD_URL"):
        load_settings({**environment, "IDV_FACE_PAD": "http"})
    with pytest.raises(SettingsError, match="IDV_FACE_PAD_SECRET is not base64"):
        load_settings({**http_environment(environment), "IDV_FACE_PAD_SECRET": "not base64!"})
