"""Moving an account along the state table (states.py), recording who, why, when, and the notice
the change sends the person.

Every caller changes state through ``move``, so the notice is never forgotten: the table below says
which events tell the person, the state change row records the notice, and a job delivers it after
the commit (``accounts.notices``).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from service.accounts import store
from service.accounts.states import WAYS_BACK, AccountEvent, AccountState
from service.jobs.queue import enqueue

NOTICE_JOB = "accounts.state_notice"

# event -> the notice it sends (the e-mail template; the SMS one is the same name + "_sms").
NOTICES: dict[AccountEvent, str] = {
    AccountEvent.SUSPENDED: "account_suspended",
    AccountEvent.REINSTATED: "account_reinstated",
    AccountEvent.REINSTATED_UNVERIFIED: "account_reinstated",
    AccountEvent.REINSTATED_RESTRICTED: "account_reinstated_restricted",
    AccountEvent.RESTRICTED: "account_restricted",
    AccountEvent.RESTRICTION_LIFTED: "account_restriction_lifted",
    AccountEvent.RESTRICTION_LIFTED_UNVERIFIED: "account_restriction_lifted",
    AccountEvent.TERMINATED: "account_terminated",
    AccountEvent.CANCELLATION_REQUESTED: "cancellation_requested",
    AccountEvent.CANCELLATION_WITHDRAWN: "cancellation_withdrawn",
    AccountEvent.CANCELLATION_WITHDRAWN_UNVERIFIED: "cancellation_withdrawn",
    AccountEvent.CANCELLATION_WITHDRAWN_RESTRICTED: "cancellation_withdrawn",
}


class StateNotice(msgspec.Struct, frozen=True):
    account_id: UUID
    notice: str
    reason_code: str | None


async def move(
    conn: asyncpg.Connection,
    account_id: UUID,
    event: AccountEvent,
    *,
    actor: str,
    reason_code: str | None = None,
    case_id: UUID | None = None,
) -> AccountState:
    """Apply the event in the caller's transaction (IllegalTransition if the table has no such row)."""
    notice = NOTICES.get(event)
    before, after = await store.apply_event(
        conn, account_id, event, actor=actor, reason_code=reason_code, case_id=case_id, notice=notice
    )
    if notice is not None and before is not after:
        await enqueue(conn, NOTICE_JOB, StateNotice(account_id, notice, reason_code))
    return after


async def way_back(conn: asyncpg.Connection, account_id: UUID, leaving: AccountState) -> AccountEvent:
    """The event that takes the account from ``leaving`` back to where it was before."""
    before = await store.state_before(conn, account_id, leaving)
    if before is AccountState.RESTRICTED and (leaving, before) in WAYS_BACK:
        return WAYS_BACK[(leaving, before)]
    verified = await store.has_verified_contact(conn, account_id)
    return WAYS_BACK[(leaving, AccountState.ACTIVE if verified else AccountState.PENDING_VERIFICATION)]
