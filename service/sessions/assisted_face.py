"""The face step of an assisted recovery: a person who had their face verified, with the biometric
consent still in force, compares their live face with that verification for the two operators.

Who may take the step is proved the way the rest of the recovery proves it: by the account's verified
contacts. The answer to ``POST /v1/recovery/assisted`` is the same for everyone and says nothing about
face data; when it opens a case for an account where the step is offered, a **face key** goes to every
verified contact with the case's id: single-use, valid for FACE_KEY_TTL, bound to that case (its digest
covers the case's id, so it opens no other), and replaced by the next one. Where the step is not
offered (no biometric consent, or no stored face verification), the contacts are told instead that the
request rests on the real name and document review. Asking again with matching answers while the case is
open sends a fresh key (no more often than codes are sent), so a person can retry within the face
verification's attempt bounds.

``POST /v1/recovery/assisted/face`` spends the key (a wrong one spends one of the key's attempts,
committed first, as codes do) and returns a liveness challenge issued for the case
(``service.face.recovery``); its answer goes to ``POST /v1/recovery/assisted/face/{verification_id}``,
where the challenge's single-use nonce authenticates it. Every refusal of a key looks alike.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.accounts.notices import notify_every_contact
from service.accounts.states import CAN_SIGN_IN
from service.audit import Actor
from service.cases import store as cases
from service.cases.catalogue import CaseType
from service.contacts import store as contacts
from service.contacts.codes import MAX_ATTEMPTS, MAX_CODES_PER_HOUR, RESEND_INTERVAL_SECONDS
from service.errors import Unauthenticated
from service.face.recovery import start_recovery_challenge
from service.face.schemas import FaceChallenge
from service.runtime import Runtime
from service.vault.labels import IndexPurpose

FACE_PURPOSE = "assisted_recovery_face"
# Long enough to read the message and find a camera; a fresh key is one more request away.
FACE_KEY_TTL = timedelta(minutes=30)
FACE_NOTICE = ("assisted_recovery_face", "assisted_recovery_face_sms")
WITHOUT_FACE_NOTICE = ("assisted_recovery_without_face", "assisted_recovery_without_face_sms")


def key_refused() -> Unauthenticated:
    return Unauthenticated("invalid_recovery_key", "The key is wrong, used or expired, or belongs to another request")


def _keyed(code_id: UUID, case_id: UUID, key: str) -> str:
    # The case's id is part of what is digested: the key opens no other case.
    return f"{code_id}:{case_id}:{key}"


async def send_face_key(runtime: Runtime, conn: asyncpg.Connection, account_id: UUID, case_id: UUID) -> bool:
    """A new key for the case to every verified contact (replacing the last), unless one was sent moments
    ago or too many this hour (silently: the answer must not tell). Whether one was sent."""
    recent = await contacts.recent_codes(conn, account_id, FACE_PURPOSE, timedelta(hours=1))
    since_last = recent.seconds_since_last
    if (since_last is not None and since_last < RESEND_INTERVAL_SECONDS) or recent.issued >= MAX_CODES_PER_HOUR:
        return False
    code_id, key = uuid.uuid4(), secrets.token_urlsafe(18)
    digest = runtime.vault.blind_index.digest(IndexPurpose.ONE_TIME_CODE, _keyed(code_id, case_id, key))
    await contacts.insert_code(conn, code_id, account_id, FACE_PURPOSE, digest, FACE_KEY_TTL)
    variables = {"case": str(case_id), "key": key, "minutes": str(int(FACE_KEY_TTL.total_seconds() // 60))}
    return await notify_every_contact(runtime, conn, account_id, FACE_NOTICE, variables) > 0


async def tell_without_face(runtime: Runtime, conn: asyncpg.Connection, account_id: UUID) -> None:
    await notify_every_contact(runtime, conn, account_id, WITHOUT_FACE_NOTICE, {})


async def start_face_step(
    runtime: Runtime, case_id: UUID, key: str, *, client_address: str, user_agent: str | None
) -> FaceChallenge:
    """Spend the case's face key for a liveness challenge tied to the case."""
    async with runtime.database.connection() as conn:
        case = await cases.fetch(conn, case_id)
    if case is None or case.case_type is not CaseType.ACCOUNT_RECOVERY or case.closed_at is not None:
        raise key_refused()
    account_id = case.subject_account_id
    async with runtime.database.transaction() as conn:
        # One attempt counted, and committed, before the key is compared: guesses are bounded.
        live = await contacts.spend_attempt(conn, account_id, FACE_PURPOSE, MAX_ATTEMPTS)
    index = runtime.vault.blind_index
    if live is None or not index.matches(IndexPurpose.ONE_TIME_CODE, _keyed(live.id, case_id, key), live.code_digest):
        raise key_refused()
    async with runtime.database.transaction() as conn:
        # Used up with the challenge it buys: of parallel uses, one wins (a refusal below keeps it).
        if not await contacts.consume_live(conn, live.id):
            raise key_refused()
        state = await accounts.lock_state(conn, account_id)
        if state is None or state not in CAN_SIGN_IN:
            raise key_refused()
        actor = Actor.anonymous(client_address, user_agent)
        return await start_recovery_challenge(runtime, conn, account_id, case_id, actor)
