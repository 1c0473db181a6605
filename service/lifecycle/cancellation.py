"""Cancelling one's account: re-authentication, a cooling-off period, then erasure by a job.

No conditions beyond proving it is the holder (the password, and the TOTP code when enrolled):
no new photo, no reason asked. During the cooling-off period the holder can sign in and keep the
account; when it ends (immediately when it is 0) the erasure job, every ten minutes, erases it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.accounts.states import AccountEvent, AccountState, states_allowing
from service.accounts.transitions import move, way_back
from service.audit import Actor, AuditEntry
from service.errors import Conflict, NotFound
from service.jobs.runner import ScheduledJob
from service.lifecycle import store
from service.lifecycle.erasure import erase_account
from service.lifecycle.schemas import CancellationRequest, CancellationStatus
from service.lifecycle.unverified import erase_unverified
from service.rights import store as exports
from service.runtime import Runtime
from service.sessions.reauthentication import confirm_password, reauthentication_failed
from service.sessions.sessions import Principal
from service.totp import factor

ERASER = Actor.system("lifecycle.erasure")
# A restricted account can be cancelled too: deleting one's data is a right, not a privilege.
CANCELLABLE = states_allowing(AccountEvent.CANCELLATION_REQUESTED)
# The states a due cancellation is carried out from: cancellation_pending, and terminated (the
# person asked to be erased; termination does not withdraw that, see states.py).
ERASABLE = states_allowing(AccountEvent.ERASED)
# What idv_erasures_stuck reports: a cancellation set aside, by its account's state, and an
# erasure that failed.
STUCK_REASONS = [f"account_{state}" for state in AccountState if state not in ERASABLE | {AccountState.ERASED}] + [
    "error"
]
logger = logging.getLogger(__name__)


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
            raise Conflict("cannot_cancel_now", f"A {state} account cannot be cancelled this way")
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
            raise NotFound("no_cancellation", "There is no cancellation to withdraw")
        event = await way_back(conn, principal.account_id, AccountState.CANCELLATION_PENDING)
        state = await move(conn, principal.account_id, event, actor="self")
        await runtime.audit.append(
            conn, AuditEntry(actor, "account.cancellation_withdrawn", "account", str(principal.account_id))
        )
    return CancellationStatus(state, None)


async def erase_due(runtime: Runtime) -> int:
    """Erase the accounts whose cooling-off has ended; how many were erased.

    Only cancellations of accounts in a state the erasure may act on (``ERASABLE``) are picked for
    erasure; those of accounts in any other state are settled first, with an outcome, so no run
    picks them again. Each account is one transaction, its work in a savepoint: an error on one is
    recorded on its cancellation (tried again at the next run) and the job goes on to the next.
    """
    await _each_due(runtime, in_erasable_state=False, act=_set_aside)
    return await _each_due(runtime, in_erasable_state=True, act=_erase)


async def _each_due(
    runtime: Runtime,
    *,
    in_erasable_state: bool,
    act: Callable[[Runtime, asyncpg.Connection, store.DueCancellation], Awaitable[bool]],
) -> int:
    done = 0
    passed_over: set[UUID] = set()
    while True:
        async with runtime.database.transaction() as conn:
            due = await store.lock_next_due(conn, ERASABLE, in_states=in_erasable_state, passed_over=passed_over)
            if due is None:
                return done
            try:
                async with conn.transaction():
                    acted = await act(runtime, conn, due)
            except Exception as exc:
                # The class, not the message: it may quote personal data. A lost connection fails
                # again right here, and ends the run.
                passed_over.add(due.id)
                logger.warning(
                    "erasure failed; the next run tries again", extra={"cancellation": str(due.id)}, exc_info=True
                )
                await store.record_failure(conn, due.id, type(exc).__name__)
                continue
        done += acted


async def _erase(runtime: Runtime, conn: asyncpg.Connection, due: store.DueCancellation) -> bool:
    state = await accounts.lock_state(conn, due.account_id)
    assert state is not None  # a cancellation references its account
    if state not in ERASABLE:  # it moved since the cancellation was picked
        return await _set_aside(runtime, conn, due._replace(state=state))
    await erase_account(runtime, conn, due.account_id, AccountEvent.ERASED, "cancelled", ERASER)
    await store.mark_erased(conn, due.id)
    return True


async def _set_aside(runtime: Runtime, conn: asyncpg.Connection, due: store.DueCancellation) -> bool:
    """Settle a cancellation the erasure may not act on: recorded, audited, reported, never picked again."""
    already = due.state is AccountState.ERASED
    outcome = "already_erased" if already else "set_aside"
    await store.settle_without_erasure(conn, due.id, outcome, f"account_{due.state}")
    details = {"cancellation": str(due.id), "outcome": outcome, "state": str(due.state)}
    await runtime.audit.append(
        conn, AuditEntry(ERASER, "account.erasure_skipped", "account", str(due.account_id), details)
    )
    # Ids and the state only: nothing personal. Set aside, a person's request waits for a person.
    log = logger.info if already else logger.warning
    log(
        "cancellation settled without erasure",
        extra={"cancellation": str(due.id), "outcome": outcome, "state": str(due.state)},
    )
    return False


async def stuck_erasures(conn: asyncpg.Connection) -> list[tuple[str, int]]:
    """Cancellations set aside (per the account's state) and open ones whose last attempt failed
    (``error``), for ``idv_erasures_stuck``."""
    return await store.stuck_by_reason(conn, STUCK_REASONS)


async def planned_erasure(runtime: Runtime, account_id: UUID) -> datetime | None:
    async with runtime.database.connection() as conn:
        return await store.open_erase_after(conn, account_id)


def erasure_schedule(runtime: Runtime) -> ScheduledJob:
    async def run() -> None:
        try:
            await erase_due(runtime)
        finally:
            try:
                await erase_unverified(runtime)
            finally:
                # Exports expire whatever happened to the erasures.
                async with runtime.database.transaction() as conn:
                    await exports.expire(conn)

    return ScheduledJob("lifecycle.erase_due", "*/10 * * * *", run)
