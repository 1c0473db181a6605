"""Restricting an account: a senior reviewer's reversible measure while a doubt is checked.

Unlike suspension, sessions live on (unless the account is thought taken over); the holder reaches
only verification, appeals and data rights (sessions.auth). One senior reviewer may restrict or
lift (it takes nothing away for good; ending an account needs two). Each change records the
operator and reason code, is audited, and tells the person (accounts.transitions).
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from service.accounts import store as accounts
from service.accounts.reasons import LiftReason, RestrictionReason
from service.accounts.states import AccountEvent, AccountState, states_allowing
from service.accounts.transitions import move, way_back
from service.audit import AuditEntry
from service.errors import Conflict, NotFound
from service.http.schemas import RequestBody
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime
from service.sessions import store as sessions

RESTRICTABLE = states_allowing(AccountEvent.RESTRICTED)
# Reasons that also end every session: whoever took the account over is signed out at once, and
# the holder signs in again (and should change the password).
ENDS_SESSIONS = frozenset({RestrictionReason.SUSPECTED_TAKEOVER})


class RestrictionRequest(RequestBody):
    reason_code: RestrictionReason


class LiftRequest(RequestBody):
    reason_code: LiftReason


class RestrictionView(msgspec.Struct):
    account_id: UUID
    state: AccountState


async def restrict(
    runtime: Runtime, operator: OperatorPrincipal, account_id: UUID, body: RestrictionRequest
) -> RestrictionView:
    reason = body.reason_code.value
    async with runtime.database.transaction() as conn:
        state = await accounts.lock_state(conn, account_id)
        if state is None:
            raise NotFound("account_not_found", "No such account")
        if state not in RESTRICTABLE:
            raise Conflict("illegal_transition", f"A {state} account cannot be restricted")
        after = await move(conn, account_id, AccountEvent.RESTRICTED, actor=operator.actor.label, reason_code=reason)
        if body.reason_code in ENDS_SESSIONS:
            await sessions.end_all_for_account(conn, account_id, "account_restricted")
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "account.restricted", "account", str(account_id), {"reason": reason})
        )
    return RestrictionView(account_id, after)


async def lift(runtime: Runtime, operator: OperatorPrincipal, account_id: UUID, body: LiftRequest) -> RestrictionView:
    reason = body.reason_code.value
    async with runtime.database.transaction() as conn:
        state = await accounts.lock_state(conn, account_id)
        if state is None:
            raise NotFound("account_not_found", "No such account")
        if state is not AccountState.RESTRICTED:
            raise Conflict("not_restricted", f"The account is {state}, not restricted")
        event = await way_back(conn, account_id, AccountState.RESTRICTED)
        after = await move(conn, account_id, event, actor=operator.actor.label, reason_code=reason)
        await runtime.audit.append(
            conn,
            AuditEntry(operator.actor, "account.restriction_lifted", "account", str(account_id), {"reason": reason}),
        )
    return RestrictionView(account_id, after)
