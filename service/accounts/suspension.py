"""Suspending an account for false information or abuse, and reinstating it.

Suspension ends every session at once (ASVS 7.4.2) and tells the person why and how to appeal.
The person may still sign in, but their session reaches only what a suspended account may do:
see the reason, appeal, and exercise their data rights (``RESTRICTED`` in states.py). A
suspension names the case that caused it; overturning that case on appeal reinstates the account.

These functions take only a connection, so the case outcome table can call them inside the
decision's transaction; the notice is a job, delivered after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg
import msgspec

from service.accounts import store
from service.accounts.states import AccountEvent, AccountState
from service.audit import Actor
from service.jobs.queue import enqueue

NOTICE_JOB = "accounts.suspension_notice"


@dataclass(frozen=True)
class SuspensionReason:
    internal: str
    user_message: str


SUSPENSION_REASONS: dict[str, SuspensionReason] = {
    "repeated_identity_mismatch": SuspensionReason(
        "Real-name checks failed repeatedly against the authoritative registry.",
        "The identity details you gave did not match official records several times.",
    ),
    "guardian_consent_revoked": SuspensionReason(
        "The minor's guardian revoked their consent and no other guardian consents.",
        "Your parent or guardian withdrew their consent. Without it your account will be deleted.",
    ),
    "false_information": SuspensionReason(
        "An operator found the information given to be false (four eyes).",
        "We found that information you gave us is not true.",
    ),
}

HOW_TO_APPEAL = "Sign in and appeal the decision from your cases (GET /v1/me/cases) within 30 days."


class SuspensionNotice(msgspec.Struct, frozen=True):
    account_id: UUID
    reason_code: str


def _actor_label(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}"


async def suspend(
    conn: asyncpg.Connection, account_id: UUID, reason_code: str, actor: Actor, case_id: UUID | None
) -> bool:
    """Suspend the account in the caller's transaction. False when it was already suspended or
    cannot be (terminated)."""
    if reason_code not in SUSPENSION_REASONS:
        raise ValueError(f"unknown suspension reason {reason_code!r}")
    state = await store.lock_state(conn, account_id)
    if state not in (AccountState.ACTIVE, AccountState.PENDING_VERIFICATION):
        return False
    await store.apply_event(
        conn, account_id, AccountEvent.SUSPENDED, actor=_actor_label(actor), reason_code=reason_code, case_id=case_id
    )
    await store.end_all_sessions(conn, account_id, "account_suspended")
    await enqueue(conn, NOTICE_JOB, SuspensionNotice(account_id, reason_code))
    return True


async def reinstate_if_caused_by(conn: asyncpg.Connection, account_id: UUID, case_id: UUID, actor: Actor) -> bool:
    """Reinstate the account if its current suspension came from this case."""
    if await store.lock_state(conn, account_id) is not AccountState.SUSPENDED:
        return False
    suspension = await store.latest_suspension(conn, account_id)
    if suspension is None or suspension["case_id"] != case_id:
        return False
    verified = await store.has_verified_contact(conn, account_id)
    event = AccountEvent.REINSTATED if verified else AccountEvent.REINSTATED_UNVERIFIED
    await store.apply_event(
        conn, account_id, event, actor=_actor_label(actor), reason_code="overturned_on_appeal", case_id=case_id
    )
    return True


def suspension_message(reason_code: str | None) -> str | None:
    reason = SUSPENSION_REASONS.get(reason_code) if reason_code else None
    return reason.user_message if reason else None
