"""A person's live face compared with their stored face verification, for an assisted recovery (issue 19).

The face capability's side of the recovery: whether the step can be offered (the biometric consent is
in force and a verified attempt still keeps its template, made by the models running now), a liveness
challenge issued for the recovery's case (counted against the account's face attempts like any other),
and its answer judged: liveness by the configured presentation-attack detection, the first frame matched
against the stored template (the live face the verification accepted against the document's portrait),
by the face verification's thresholds. Nothing is decided here: the result goes into the recovery case's
automated results for its two operators. No image is kept and no template is made; a failed liveness or
a clear mismatch counts as a failed face attempt, so the face verification's bounds hold for both.

Who may ask is the recovery's business (``service.sessions.assisted``): it calls `start_recovery_challenge`
only after a single-use key that reached the account's verified contacts.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import numpy as np

from service.audit import Actor, AuditEntry
from service.audit.entries import DetailValue
from service.cases.cases import add_automated_results
from service.cases.catalogue import CaseType
from service.cases.schemas import AutomatedResult
from service.cases.store import fetch as fetch_case
from service.consents.ledger import has_consent
from service.consents.purposes import ConsentPurpose
from service.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    RateLimited,
    invalid_fields,
)
from service.face import store
from service.face.attempts import check_attempts
from service.face.challenge import nonce_digest
from service.face.keys import biometric_key_owner
from service.face.schemas import CERTIFIED_LIVENESS_NOTICE, FaceChallenge, RecoveryFaceResult, RecoveryFaceSubmission
from service.face.store import FaceStatus
from service.face.verification import ENGINE, MAX_RETAKES, QUALITY_HINTS, decode_live_frames
from service.runtime import Runtime
from service.vault.labels import VaultField
from verification.face.liveness import ChallengeAction, LivenessResult
from verification.face.matching import MatchDecision, Thresholds, cosine_similarity, decide
from verification.face.quality import QualityIssue

_RANDOM = random.SystemRandom()
CHECK_LIVENESS = "recovery_face_liveness"
CHECK_MATCH = "recovery_face_match"


async def offered(runtime: Runtime, conn: asyncpg.Connection, account_id: UUID) -> bool:
    """The biometric consent is in force and there is a stored template the running models can compare."""
    if not await has_consent(conn, runtime.policies, account_id, ConsentPurpose.BIOMETRIC):
        return False
    reference = await store.reference_template(conn, account_id)
    return reference is not None and reference.model_version == runtime.faces.models.version


def not_offered() -> Conflict:
    return Conflict(
        "face_step_not_offered",
        "Your face cannot be compared for this request",
        "Our staff will judge the request on your verified real name and identity document.",
    )


async def _check_attempts(conn: asyncpg.Connection, runtime: Runtime, account_id: UUID, *, answering: bool) -> None:
    """The face verification's bounds, said in the recovery's words (no document review to point to)."""
    try:
        await check_attempts(conn, runtime.settings, account_id, answering=answering)
    except RateLimited as refused:
        raise RateLimited(
            refused.code,
            refused.title,
            "Try the face step again later; our staff will judge the request on your verified real name and "
            "identity document meanwhile.",
            retry_after=refused.retry_after,
        ) from None
    except Conflict as refused:
        raise Conflict(
            refused.code,
            "Face comparison did not succeed and is no longer offered",
            "Our staff will judge the request on your verified real name and identity document.",
        ) from None


async def start_recovery_challenge(
    runtime: Runtime, conn: asyncpg.Connection, account_id: UUID, case_id: UUID, actor: Actor
) -> FaceChallenge:
    """A liveness challenge tied to the recovery case, in the caller's transaction (which spent its key)."""
    if not await offered(runtime, conn, account_id):
        raise not_offered()
    await _check_attempts(conn, runtime, account_id, answering=False)
    await store.expire_open_challenges(conn, account_id)
    actions = runtime.liveness.new_challenge(_RANDOM)
    nonce = secrets.token_urlsafe(24)
    verification_id = uuid.uuid4()
    expires_at = datetime.now(UTC) + runtime.settings.face_challenge_lifetime
    await store.insert(
        conn,
        verification_id=verification_id,
        account_id=account_id,
        case_id=case_id,
        actions=[a.value for a in actions],
        nonce_digest=nonce_digest(nonce),
        expires_at=expires_at,
    )
    details = {"actions": ",".join(actions), "case": str(case_id)}
    await runtime.audit.append(
        conn, AuditEntry(actor, "face.recovery_challenge_issued", "account", str(account_id), details)
    )
    challenge = FaceChallenge(verification_id, case_id, nonce, list(actions), expires_at)
    if runtime.liveness.certified:
        challenge.liveness = CERTIFIED_LIVENESS_NOTICE.format(method=runtime.liveness.method)
    return challenge


def _no_challenge() -> NotFound:
    return NotFound("verification_not_found", "No such face challenge")


async def _claim(runtime: Runtime, verification_id: UUID, nonce: str) -> tuple[UUID, UUID, list[ChallengeAction]]:
    """Spend the challenge (its nonce, once) before any image is looked at: (account, case, actions)."""
    expired = False
    async with runtime.database.transaction() as conn:
        owner = await store.owner_of(conn, verification_id)
        if owner is None:
            raise _no_challenge()
        case = await fetch_case(conn, owner.case_id)
        if case is None or case.case_type is not CaseType.ACCOUNT_RECOVERY:
            raise _no_challenge()
        if case.closed_at is not None:
            raise Conflict("case_closed", "This recovery request is already decided")
        # The account first, as everywhere face attempts are counted (one lock order).
        await _check_attempts(conn, runtime, owner.account_id, answering=True)
        challenge = await store.lock_own(conn, owner.account_id, verification_id)
        if challenge is None:
            raise _no_challenge()
        if challenge.status is not FaceStatus.CHALLENGED:
            raise Conflict("challenge_used", "This challenge was already answered; ask for a new key")
        if not secrets.compare_digest(nonce_digest(nonce), challenge.nonce_digest):
            raise Forbidden("challenge_invalid", "The nonce does not belong to this challenge")
        expired = challenge.expired
        await store.set_status(conn, verification_id, "expired" if expired else "processing")
    if expired:
        raise Gone("challenge_expired", "The challenge expired; ask for a new key")
    return owner.account_id, owner.case_id, [ChallengeAction(a) for a in challenge.actions]


async def answer_recovery_challenge(
    runtime: Runtime, verification_id: UUID, submission: RecoveryFaceSubmission, actor: Actor
) -> RecoveryFaceResult:
    account_id, case_id, actions = await _claim(runtime, verification_id, submission.nonce)
    try:
        return await _compare(runtime, account_id, case_id, verification_id, actions, submission, actor)
    except DomainError as problem:
        # As for a face verification: a photo to retake keeps the challenge open a few times.
        async with runtime.database.transaction() as conn:
            reopened = isinstance(problem, Invalid) and await store.reopen_for_retake(
                conn, verification_id, MAX_RETAKES
            )
            if not reopened:
                await store.set_status(conn, verification_id, "retry")
        raise


async def _compare(
    runtime: Runtime,
    account_id: UUID,
    case_id: UUID,
    verification_id: UUID,
    actions: list[ChallengeAction],
    submission: RecoveryFaceSubmission,
    actor: Actor,
) -> RecoveryFaceResult:
    if len(submission.frames) != len(actions):
        raise invalid_fields(
            FieldProblem("frames", "challenge_incomplete", f"send frames for each of the {len(actions)} actions")
        )
    async with runtime.database.connection() as conn:
        reference = await store.reference_template(conn, account_id)
        if reference is None or reference.model_version != runtime.faces.models.version:
            raise not_offered()  # the consent was withdrawn (and the template erased) since the key was sent
        bio = await runtime.vault.open(conn, biometric_key_owner(reference.verification_id))
    stored = np.frombuffer(bio.open(VaultField.FACE_TEMPLATE, reference.template), dtype=np.float32)
    loop = asyncio.get_running_loop()
    frames = await loop.run_in_executor(runtime.cpu, decode_live_frames, submission.frames)
    liveness = await runtime.liveness.assess(actions, frames)
    live = await runtime.faces.analyze(frames[0][0])
    if not live.quality.passed or live.embedding is None:
        problems = [FieldProblem("frames[0][0]", issue.value, QUALITY_HINTS[issue]) for issue in live.quality.issues]
        raise Invalid(
            "face_quality",
            "A photo could not be used; take it again",
            "Take the photo again and send the answer again with the same challenge before it expires.",
            errors=problems or [FieldProblem("frames[0][0]", "no_face", QUALITY_HINTS[QualityIssue.NO_FACE])],
        )
    thresholds = Thresholds(runtime.settings.face_accept_threshold, runtime.settings.face_reject_threshold)
    score = cosine_similarity(stored, live.embedding)
    decision = decide(score, thresholds)
    return await _record(runtime, account_id, case_id, verification_id, liveness, score, thresholds, decision, actor)


def _liveness_outcome(liveness: LivenessResult) -> str:
    if not liveness.passed:
        return "failed"
    return "passed" if liveness.confident else "passed_without_margin"


async def _record(
    runtime: Runtime,
    account_id: UUID,
    case_id: UUID,
    verification_id: UUID,
    liveness: LivenessResult,
    score: float,
    thresholds: Thresholds,
    decision: MatchDecision,
    actor: Actor,
) -> RecoveryFaceResult:
    reasons = [code.value for code in liveness.reason_codes]
    if decision is MatchDecision.REJECT:
        reasons.append("face_mismatch")
    # A failed liveness or a clear mismatch is a failed face attempt (the bounds count it); anything else
    # waits with the case for its operators, who decide the recovery (never this attempt alone).
    failed = not liveness.passed or decision is MatchDecision.REJECT
    results = [
        AutomatedResult(CHECK_LIVENESS, _liveness_outcome(liveness), liveness.method),
        AutomatedResult(
            CHECK_MATCH,
            decision.value,
            f"{ENGINE} {runtime.faces.models.version}",
            score=round(score, 4),
            threshold=thresholds.accept,
            reason_code="against_stored_face_verification",
        ),
    ]
    async with runtime.database.transaction() as conn:
        await add_automated_results(conn, case_id, results, actor)
        await store.record_decision(
            conn,
            verification_id,
            status="rejected" if failed else "in_review",
            score=score,
            accept_threshold=thresholds.accept,
            reject_threshold=thresholds.reject,
            model_version=runtime.faces.models.version,
            liveness_method=liveness.method,
            reason_codes=reasons,
            template=None,
            decided_by="automatic" if failed else None,
            pad_certified=liveness.certified,
        )
        details: dict[str, DetailValue] = {
            "case": str(case_id),
            "match": decision.value,
            "score": f"{score:.4f}",
            "liveness": liveness.passed,
        }
        await runtime.audit.append(
            conn, AuditEntry(actor, "face.recovery_compared", "account", str(account_id), details)
        )
    return RecoveryFaceResult(
        case_id=case_id,
        verification_id=verification_id,
        liveness=_liveness_outcome(liveness),
        face_match=decision.value,
        reason_codes=reasons,
    )
