"""Answering a face challenge: claim the nonce, screen the images, check liveness and quality,
match the live face against the document's portrait, and decide by the configured bands.

The nonce is spent in its own transaction before any image is looked at, so a replay fails
whatever happens next. Images are screened and decoded on the CPU pool and analysed on the face
pool, never on the event loop. An automated decision keeps no image: only the score, thresholds,
model versions and reason codes, and (when verified) the template sealed under the person's
biometric key. The grey band keeps the two images, sealed, for the operator, until the decision.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import cv2
import numpy as np

from service.audit import Actor, AuditEntry
from service.audit.entries import DetailValue
from service.cases import store as cases
from service.cases.cases import conclude_checks
from service.cases.catalogue import CaseType
from service.cases.schemas import AutomatedResult
from service.cases.states import CaseEvent
from service.errors import (
    Conflict,
    DomainError,
    FieldChecks,
    FieldProblem,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    invalid_fields,
)
from service.face import store
from service.face.attempts import check_attempts
from service.face.challenge import nonce_digest
from service.face.keys import biometric_key_owner
from service.face.schemas import FaceResult, FaceSubmission
from service.face.store import FaceStatus
from service.runtime import Runtime
from service.settings import Settings
from service.vault.labels import FieldFamily, VaultField
from verification.face.analysis import FaceAnalysis, analysis_of_detections
from verification.face.images import FACE_MAX_SIDE, ImageBGR, decode_face_image
from verification.face.liveness import ChallengeAction, FrameObservation, LivenessResult
from verification.face.matching import MatchDecision, Thresholds, cosine_similarity, decide
from verification.face.pool import FacePool
from verification.face.presentation import PresentationAttackDetector
from verification.face.quality import QualityIssue
from verification.face.timing import CaptureBounds, CaptureDoubt, capture_doubts, frame_count_doubts, order_problems
from verification.uploads import UploadLimits

FACE_LIMITS = UploadLimits(max_bytes=5 * 1024 * 1024, max_pixels=16_000_000, max_side=6000, min_side=64)
ENGINE = "face"
# Answers refused for a photo to retake that a challenge survives (each one runs the models again).
MAX_RETAKES = 2
# A portrait on a photographed identity document is a small part of the picture: keep more of it.
DOCUMENT_MAX_SIDE = 2048


@dataclass(frozen=True)
class _Claimed:
    account_id: UUID
    case_id: UUID
    actions: list[ChallengeAction]


async def _claim(runtime: Runtime, account_id: UUID, verification_id: UUID, nonce: str) -> _Claimed:
    expired = False
    async with runtime.database.transaction() as conn:
        # The account first, as when a challenge is issued (one lock order, no deadlock). Answers being
        # judged count as failures until decided, so parallel answers cannot exceed the bound either.
        await check_attempts(conn, runtime.settings, account_id, answering=True)
        challenge = await store.lock_own(conn, account_id, verification_id)
        # A challenge issued for an assisted recovery is answered there, never as a verification (its
        # case takes two operators; a face verification's checks could decide it alone).
        if challenge is None or not await _of_face_case(conn, challenge.case_id):
            raise NotFound("verification_not_found", "No such face verification")
        if challenge.status is not FaceStatus.CHALLENGED:
            raise Conflict("challenge_used", "This challenge was already answered; ask for a new one")
        if not secrets.compare_digest(nonce_digest(nonce), challenge.nonce_digest):
            raise Forbidden("challenge_invalid", "The nonce does not belong to this challenge")
        expired = challenge.expired
        await store.set_status(conn, verification_id, "expired" if expired else "processing")
    if expired:
        raise Gone("challenge_expired", "The challenge expired; ask for a new one")
    return _Claimed(account_id, challenge.case_id, [ChallengeAction(a) for a in challenge.actions])


async def _of_face_case(conn: asyncpg.Connection, case_id: UUID) -> bool:
    case = await cases.fetch(conn, case_id)
    return case is not None and case.case_type is CaseType.FACE


def _decode_all(submission: FaceSubmission) -> tuple[ImageBGR, list[list[ImageBGR]]]:
    """One image at a time, each checked by its header before decoding and kept small (see
    `decode_face_image`): an answer's 25 images hold a few megabytes each, never 48."""
    checks = FieldChecks()

    def decode(data: bytes, field: str, max_side: int = FACE_MAX_SIDE) -> ImageBGR | None:
        return checks.check(field, decode_face_image, data, FACE_LIMITS, max_side)

    document = decode(submission.document, "document", DOCUMENT_MAX_SIDE)
    frames = [
        [decode(frame, f"frames[{i}][{j}]") for j, frame in enumerate(action)]
        for i, action in enumerate(submission.frames)
    ]
    checks.raise_if_any()
    assert document is not None  # no problems: every image decoded
    return document, [[f for f in action if f is not None] for action in frames]


def decode_live_frames(frames: Sequence[Sequence[bytes]]) -> list[list[ImageBGR]]:
    """Camera frames alone (an answer without a document), decoded as `_decode_all` does."""
    checks = FieldChecks()
    decoded = [
        [
            checks.check(f"frames[{i}][{j}]", decode_face_image, frame, FACE_LIMITS, FACE_MAX_SIDE)
            for j, frame in enumerate(action)
        ]
        for i, action in enumerate(frames)
    ]
    checks.raise_if_any()
    return [[f for f in action if f is not None] for action in decoded]


# What a person can do about each problem with a photo.
QUALITY_HINTS: dict[QualityIssue, str] = {
    QualityIssue.NO_FACE: "no face was found; show the face (or the document's portrait) fully",
    QualityIssue.MULTIPLE_FACES: "more than one face was found; only one person may be in the picture",
    QualityIssue.FACE_TOO_SMALL: "the face is too small; come closer or photograph the portrait closer",
    QualityIssue.BLURRED: "the picture is blurred; hold still and clean the lens",
    QualityIssue.TOO_DARK: "the picture is too dark; find more light",
    QualityIssue.TOO_BRIGHT: "the picture is too bright; avoid direct light and glare",
    QualityIssue.POSE_NOT_FRONTAL: "look straight at the camera",
}


def _quality_problems(analysis: FaceAnalysis, field: str) -> list[FieldProblem]:
    return [FieldProblem(field, issue.value, QUALITY_HINTS[issue]) for issue in analysis.quality.issues]


async def submit(
    runtime: Runtime, account_id: UUID, verification_id: UUID, submission: FaceSubmission, actor: Actor
) -> FaceResult:
    claimed = await _claim(runtime, account_id, verification_id, submission.nonce)
    try:
        return await _verify(runtime, claimed, verification_id, submission, actor)
    except DomainError as problem:
        # Nothing was decided. A photo to retake (Invalid) keeps the challenge open, a few times and while
        # it lasts; otherwise the attempt is over and a new challenge starts the next one.
        async with runtime.database.transaction() as conn:
            reopened = isinstance(problem, Invalid) and await store.reopen_for_retake(
                conn, verification_id, MAX_RETAKES
            )
            if not reopened:
                await store.set_status(conn, verification_id, "retry")
        if not isinstance(problem, Invalid):
            raise
        advice = (
            "Take the photo again and send the answer again with the same challenge before it expires."
            if reopened
            else "This challenge cannot be answered again: ask for a new one."
        )
        raise Invalid(problem.code, problem.title, advice, errors=problem.errors) from None


async def _verify(
    runtime: Runtime, claimed: _Claimed, verification_id: UUID, submission: FaceSubmission, actor: Actor
) -> FaceResult:
    if len(submission.frames) != len(claimed.actions):
        raise invalid_fields(
            FieldProblem(
                "frames", "challenge_incomplete", f"send frames for each of the {len(claimed.actions)} actions"
            )
        )
    doubts = _capture_doubts(submission, runtime.settings)
    doubts += frame_count_doubts([len(action) for action in submission.frames], runtime.settings.face_min_frames)
    loop = asyncio.get_running_loop()
    document, frames = await loop.run_in_executor(runtime.cpu, _decode_all, submission)
    thresholds = Thresholds(runtime.settings.face_accept_threshold, runtime.settings.face_reject_threshold)
    assessed = await assess_answer(
        runtime.faces, runtime.liveness, thresholds, claimed.actions, document, frames, doubts
    )
    problems = _quality_problems(assessed.reference, "document") + _quality_problems(assessed.live, "frames[0][0]")
    if problems or assessed.outcome is None:
        raise Invalid(
            "face_quality",
            "A photo could not be used; take it again",
            errors=problems,
        )
    images = [("document", document), ("live", frames[0][0])]
    images += [(f"frame-{i}-{j}", frame) for i, action in enumerate(frames) for j, frame in enumerate(action)][1:]
    return await _record(runtime, claimed, verification_id, assessed.outcome, actor, images, assessed.live)


@dataclass(frozen=True)
class Assessment:
    """Every check of one answer: the two photos' quality, liveness, and (when both photos show one face
    of usable quality) the match."""

    reference: FaceAnalysis
    live: FaceAnalysis
    liveness: LivenessResult
    outcome: _Outcome | None


async def assess_answer(
    faces: FacePool,
    liveness: PresentationAttackDetector,
    thresholds: Thresholds,
    actions: Sequence[ChallengeAction],
    document: ImageBGR,
    frames: Sequence[Sequence[ImageBGR]],
    capture_doubts: tuple[CaptureDoubt, ...] = (),
) -> Assessment:
    """The checks the service runs on decoded images (also `idv dev face-try`'s), on the face pool. The
    liveness checks detect and embed every image once; the quality of the document and the first frame is
    judged on those detections (a detector that does not return them costs a second analysis)."""
    judged = await liveness.assess(actions, frames, document)
    reference, live = await asyncio.gather(
        _analysis(faces, document, judged.portrait), _analysis(faces, frames[0][0], judged.baseline)
    )
    if not (reference.quality.passed and live.quality.passed) or reference.embedding is None or live.embedding is None:
        return Assessment(reference, live, judged, None)
    score = cosine_similarity(reference.embedding, live.embedding)
    outcome = _Outcome(judged, score, thresholds, decide(score, thresholds), capture_doubts)
    return Assessment(reference, live, judged, outcome)


async def _analysis(faces: FacePool, image: ImageBGR, observed: FrameObservation | None) -> FaceAnalysis:
    if observed is None:
        return await faces.analyze(image)
    return await faces.run(lambda _: analysis_of_detections(image, observed.faces, observed.embedding))


def _capture_doubts(submission: FaceSubmission, settings: Settings) -> tuple[CaptureDoubt, ...]:
    """Capture times, when given, shaped like the frames and in order (else 422); then their doubts."""
    times = submission.captured_at
    if times is None:
        return ()
    if [len(action) for action in times] != [len(action) for action in submission.frames]:
        raise invalid_fields(
            FieldProblem("captured_at", "capture_times_mismatch", "give one capture time per frame, shaped like frames")
        )
    problems = order_problems(times)
    if problems:
        raise invalid_fields(
            *(
                FieldProblem(
                    f"captured_at[{p.action_index}][{p.frame_index}]",
                    p.issue.value,
                    "frames must come from one capture, each after the one before",
                )
                for p in problems
            )
        )
    return capture_doubts(times, CaptureBounds(settings.face_capture_min_ms, settings.face_capture_max_ms))


def _encode(image: ImageBGR) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("could not encode a face image")
    return bytes(np.asarray(encoded).tobytes())


@dataclass(frozen=True)
class _Outcome:
    liveness: LivenessResult
    score: float
    thresholds: Thresholds
    decision: MatchDecision
    capture_doubts: tuple[CaptureDoubt, ...] = ()  # the capture's timing is implausible: a person looks


def may_verify_without_review(liveness: LivenessResult, policy: str) -> bool:
    """IDV_FACE_VERIFY_WITHOUT_REVIEW: `never`; `certified_pad` (a certified PAD passed without doubt);
    `margin` (that, or every built-in check passed with margin). A certified pass with a doubt (the vendor
    could not be reached, or passed what the built-in checks did not, see `service.face.pad`) is no pass
    without a person."""
    if policy == "never" or not liveness.passed:
        return False
    if liveness.certified:
        return liveness.confident
    return policy == "margin" and liveness.confident


@dataclass(frozen=True)
class _Judgement:
    status: str
    event: CaseEvent
    reason: str
    reason_codes: list[str]


def judge(outcome: _Outcome, policy: str) -> _Judgement:
    """Rejected on failed liveness or a clear mismatch; verified only with a match and a liveness pass
    the policy trusts without a person; everything in between goes to an operator."""
    liveness, decision = outcome.liveness, outcome.decision
    reasons = [code.value for code in liveness.reason_codes]
    if not liveness.passed:
        return _Judgement("rejected", CaseEvent.AUTO_REJECT, "liveness_failed", reasons)
    if decision is MatchDecision.REJECT:
        return _Judgement("rejected", CaseEvent.AUTO_REJECT, "face_mismatch", [*reasons, "face_mismatch"])
    timely = not outcome.capture_doubts
    if decision is MatchDecision.ACCEPT and may_verify_without_review(liveness, policy) and timely:
        return _Judgement("verified", CaseEvent.AUTO_APPROVE, "evidence_consistent", reasons)
    reasons += [uncertainty.value for uncertainty in liveness.uncertainties]
    reasons += [doubt.value for doubt in outcome.capture_doubts]
    if decision is MatchDecision.REVIEW:
        reasons.append("face_match_grey_band")
    elif liveness.confident and timely:
        reasons.append("review_by_policy")
    return _Judgement("in_review", CaseEvent.REFER, "checks_inconclusive", reasons)


def _liveness_outcome(liveness: LivenessResult) -> str:
    if not liveness.passed:
        return "failed"
    return "passed" if liveness.confident else "passed_without_margin"


async def _record(
    runtime: Runtime,
    claimed: _Claimed,
    verification_id: UUID,
    outcome: _Outcome,
    actor: Actor,
    images: list[tuple[str, ImageBGR]],
    live: FaceAnalysis,
) -> FaceResult:
    liveness, score, thresholds, decision = outcome.liveness, outcome.score, outcome.thresholds, outcome.decision
    judgement = judge(outcome, runtime.settings.face_verify_without_review)
    status, event, reason, reasons = judgement.status, judgement.event, judgement.reason, judgement.reason_codes
    retention = runtime.settings.face_image_retention
    # Under review: every image, kept until the decision (the operator sees every frame). Decided
    # automatically: the document and the first frame, kept only if configured.
    kept = images if status == "in_review" else images[:2] if retention > timedelta(0) else []
    keep_until = None if status == "in_review" else datetime.now(UTC) + retention
    samples = await asyncio.get_running_loop().run_in_executor(
        runtime.cpu, lambda: [(role, _encode(image)) for role, image in kept]
    )
    results = [
        AutomatedResult("liveness", _liveness_outcome(liveness), liveness.method),
        AutomatedResult(
            "face_match",
            decision.value,
            f"{ENGINE} {runtime.faces.models.version}",
            score=round(score, 4),
            threshold=thresholds.accept,
        ),
    ]
    async with runtime.database.transaction() as conn:
        bio = await runtime.vault.open_or_create(conn, biometric_key_owner(verification_id))
        template = None
        if status in ("verified", "in_review") and live.embedding is not None:
            template = bio.seal(VaultField.FACE_TEMPLATE, live.embedding.astype(np.float32).tobytes())
        decided_at = await store.record_decision(
            conn,
            verification_id,
            status=status,
            score=score,
            accept_threshold=thresholds.accept,
            reject_threshold=thresholds.reject,
            model_version=runtime.faces.models.version,
            liveness_method=liveness.method,
            reason_codes=reasons,
            template=template,
            decided_by=None if status == "in_review" else "automatic",
            pad_certified=liveness.certified,
        )
        for role, sample in samples:
            await store.put_sample(
                conn, verification_id, role, bio.seal(FieldFamily.FACE_SAMPLE.of(role), sample), keep_until
            )
        await conclude_checks(conn, claimed.case_id, event, results, reason_code=reason, engine="face")
        details: dict[str, DetailValue] = {"status": status, "score": f"{score:.4f}", "liveness": liveness.passed}
        await runtime.audit.append(
            conn, AuditEntry(actor, "face.verified", "account", str(claimed.account_id), details)
        )
    return FaceResult(
        status,
        verification_id,
        claimed.case_id,
        reasons,
        decided_at,
        decided_by=None if status == "in_review" else "automatic",
        liveness_method=liveness.method,
    )


async def current(runtime: Runtime, account_id: UUID) -> FaceResult:
    async with runtime.database.connection() as conn:
        latest = await store.latest_for_account(conn, account_id)
    if latest is None:
        return FaceResult("none")
    return FaceResult(
        latest.status.value,
        latest.id,
        latest.case_id,
        list(latest.reason_codes),
        latest.decided_at,
        decided_by=latest.decided_by,
        liveness_method=latest.liveness_method,
    )
