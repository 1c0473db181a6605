"""What a case's change of state does beyond the case, as a table per case type.

``transition`` calls ``case_changed`` in the same transaction, so a decision and its effects
commit together. Two rules hold for every type: a rejection for false information suspends the
account (naming the case), and overturning that case on appeal reinstates it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from service.accounts.suspension import reinstate_if_caused_by, suspend
from service.audit import Actor
from service.cases.catalogue import CaseType
from service.cases.records import Case
from service.cases.states import CaseEvent, CaseState
from service.registration import RegisteredTable

CaseOutcome = Callable[[asyncpg.Connection, Case, CaseState], Awaitable[None]]

# A rejection with this reason suspends the account; deciding it always takes four eyes.
FALSE_INFORMATION_REASON = "suspected_false_information"


# What each case type's change of state does, declared by the capability that owns the type (its
# manifest, service.manifest) and registered by service.capabilities: cases never imports them.
OUTCOMES: RegisteredTable[CaseType, CaseOutcome] = RegisteredTable("case outcomes")


async def case_changed(
    conn: asyncpg.Connection, case: Case, event: CaseEvent, after: CaseState, reason_code: str | None, actor: Actor
) -> None:
    if after is CaseState.REJECTED and reason_code == FALSE_INFORMATION_REASON:
        await suspend(conn, case.subject_account_id, "false_information", actor, case.id)
    if event is CaseEvent.OVERTURNED_ON_APPEAL:
        await reinstate_if_caused_by(conn, case.subject_account_id, case.id, actor)
    outcome = OUTCOMES.get(case.case_type)
    if outcome is not None:
        await outcome(conn, case, after)
