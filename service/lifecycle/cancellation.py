"""Cancelling one's account: re-authentication, a cooling-off period, then erasure by a job.

No conditions beyond proving it is the holder (the password, and the TOTP code when enrolled):
no new photo, no reason asked. During the cooling-off period the holder can sign in and keep the
account; when it ends (immediately when it is 0) the hourly job erases it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from service.accounts import store as accounts
from service.accounts.states import AccountEvent, AccountState, states_allowing
from service.accounts.transitions import move, way_back
from service.audit import Actor, AuditEntry
from service.http.problems import ProblemError
from service.jobs.runner import ScheduledJob
from service.lifecycle import store
from service.lifecycle.erasure import erase_account
from service.lifecycle.schemas import CancellationRequest, CancellationStatus
from service.rights import store as exports
from service.runtime import Runtime
from service.sessions.reauthentication import confirm_password, reauthentication_failed
from service.sessions.sessions import Principal
from service.totp import factor

ERASER = Actor.system("lifecycle.erasure")
# A restricted account can be cancelled too: deleting one's data is a right, not a privilege.
CANCELLABLE = states_allowing(AccountEvent.CANCELLATION_REQUESTED)


async def cancel(
    runtime: Runtime, principal: Principal, body: CancellationRequest, client_address: str, actor: Actor
) -> CancellationStatus:
    await confirm_password(runtime, principal, body.password, client_address)
    erase_after = datetime.now(UTC) + runtime.settings.cancellation_cooling_off
    async with runtime.database.transaction() as conn:
        if principal.totp_enabled:
            cipher = await runtime.vault.open(conn, principal.account_id)
            if not body.totp_code or not await factor.check_code(conn, cipher, body.totp_code):
                raise reauthentication_failed()
        state = await accounts.lock_state(conn, principal.account_id)
        if state not in CANCELLABLE:
            raise ProblemError(409, "cannot_cancel_now", f"A {state} account cannot be cancelled this way")
        await store.insert(conn, uuid.uuid4(), principal.account_id, erase_after)
        await move(conn, principal.account_id, AccountEvent.CANCELLATION_REQUESTED, actor="self")
        details = {"erase_after": erase_after.isoformat()}
        await runtime.audit.append(
            conn, AuditEntry(actor, "account.cancellation_requested", "account", str(principal.account_id), details)
        )
    return CancellationStatus(AccountState.CANCELLATION_PENDING, erase_after)


async def keep(runtime: Runtime, principal: Principal, actor: Actor) -> CancellationStatus:
    async with runtime.database.transaction() as conn:
        if not await store.withdraw(conn, principal.account_id):
            raise ProblemError(404, "no_cancellation", "There is no cancellation to withdraw")
        event = await way_back(conn, principal.account_id, AccountState.CANCELLATION_PENDING)
        state = await move(conn, principal.account_id, event, actor="self")
        await runtime.audit.append(
            conn, AuditEntry(actor, "account.cancellation_withdrawn", "account", str(principal.account_id))
        )
    return CancellationStatus(state, None)


async def erase_due(runtime: Runtime) -> int:
    """Erase the accounts whose cooling-off has ended, one transaction each."""
    erased = 0
    while True:
        async with runtime.database.transaction() as conn:
            due = await store.lock_next_due(conn)
            if due is None:
                return erased
            await erase_account(runtime, conn, due["account_id"], AccountEvent.ERASED, "cancelled", ERASER)
            await store.mark_erased(conn, due["id"])
        erased += 1


async def planned_erasure(runtime: Runtime, account_id: UUID) -> datetime | None:
    async with runtime.database.connection() as conn:
        return await store.open_erase_after(conn, account_id)


def erasure_schedule(runtime: Runtime) -> ScheduledJob:
    async def run() -> None:
        await erase_due(runtime)
        async with runtime.database.transaction() as conn:
            await exports.expire(conn)

    return ScheduledJob("lifecycle.erase_due", "*/10 * * * *", run)
