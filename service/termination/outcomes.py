"""What an approved termination does: the account's sessions end, it moves to ``terminated`` and,
for false information, its verified identity number is barred (termination.termination)."""

from __future__ import annotations

import asyncpg

from service.accounts.states import AccountEvent
from service.accounts.transitions import move
from service.cases import store as cases
from service.cases.records import Case
from service.cases.states import CaseState
from service.sessions import store as sessions
from service.termination import store
from service.termination.termination import TerminationReason


async def termination_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    if after is not CaseState.APPROVED:
        return
    evidence = {item.name: item.masked for item in await cases.evidence(conn, case.id)}
    account_id = case.subject_account_id
    await sessions.end_all_for_account(conn, account_id, "account_terminated")
    await move(
        conn,
        account_id,
        AccountEvent.TERMINATED,
        actor="system:cases.termination",
        reason_code=evidence["reason"],
        case_id=case.id,
    )
    if evidence["reason"] == TerminationReason.FALSE_INFORMATION and "bar_days" in evidence:
        await store.bar_verified_identity(conn, account_id, case.id, int(evidence["bar_days"]))
