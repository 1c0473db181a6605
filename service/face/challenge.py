"""Starting a face verification: consent first, then a random challenge with a single-use nonce."""

from __future__ import annotations

import hashlib
import random
import secrets
import uuid
from datetime import UTC, datetime
from uuid import UUID

from service.audit import Actor, AuditEntry
from service.cases import store as cases
from service.cases.cases import lock_case, open_case
from service.cases.catalogue import CaseType
from service.cases.schemas import Evidence
from service.cases.states import CaseState
from service.consents.ledger import require_consent
from service.consents.purposes import ConsentPurpose
from service.face import store
from service.face.attempts import check_attempts
from service.face.schemas import CERTIFIED_LIVENESS_NOTICE, FaceChallenge
from service.runtime import Runtime

_RANDOM = random.SystemRandom()


def nonce_digest(nonce: str) -> bytes:
    return hashlib.sha256(nonce.encode()).digest()


async def start_challenge(runtime: Runtime, account_id: UUID, actor: Actor) -> FaceChallenge:
    actions = runtime.liveness.new_challenge(_RANDOM)
    nonce = secrets.token_urlsafe(24)
    verification_id = uuid.uuid4()
    expires_at = datetime.now(UTC) + runtime.settings.face_challenge_lifetime
    async with runtime.database.transaction() as conn:
        await require_consent(conn, runtime.policies, account_id, ConsentPurpose.BIOMETRIC)
        await check_attempts(conn, runtime.settings, account_id)
        await store.expire_open_challenges(conn, account_id)
        # Attempts that ended in a photo to retake stay in the same case, still at its checks.
        open_cases = await cases.open_of_subject(conn, account_id, [CaseType.FACE.value])
        case = None
        for case_id in open_cases:
            candidate = await lock_case(conn, case_id)
            if candidate.state is CaseState.AUTO_CHECKS:
                case = candidate
        if case is None:
            case = await open_case(
                conn,
                runtime.vault,
                case_type=CaseType.FACE,
                subject_account_id=account_id,
                evidence=[Evidence("liveness_method", "active-challenge", "active-challenge")],
                actor=actor,
            )
        await store.insert(
            conn,
            verification_id=verification_id,
            account_id=account_id,
            case_id=case.id,
            actions=[a.value for a in actions],
            nonce_digest=nonce_digest(nonce),
            expires_at=expires_at,
        )
        details = {"actions": ",".join(actions), "case": str(case.id)}
        await runtime.audit.append(
            conn, AuditEntry(actor, "face.challenge_issued", "account", str(account_id), details)
        )
    challenge = FaceChallenge(verification_id, case.id, nonce, list(actions), expires_at)
    if runtime.liveness.certified:
        challenge.liveness = CERTIFIED_LIVENESS_NOTICE.format(method=runtime.liveness.method)
    return challenge
