"""What an approved termination does: the account's sessions end, it moves to ``terminated`` and,
for false information, its verified identity number is barred (termination.termination)."""

from __future__ import annotations

import asyncpg

from service.accounts import store as accounts
from service.accounts.states import AccountEvent
from service.accounts.transitions import move
from service.cases.cases import Case
from service.cases.states import CaseState
from service.termination.termination import TerminationReason


async def termination_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    if after is not CaseState.APPROVED:
        return
    evidence = {
        row["name"]: row["masked"]
        for row in await conn.fetch("SELECT name, masked FROM review_case_evidence WHERE case_id = $1", case.id)
    }
    account_id = case.subject_account_id
    await accounts.end_all_sessions(conn, account_id, "account_terminated")
    await move(
        conn,
        account_id,
        AccountEvent.TERMINATED,
        actor="system:cases.termination",
        reason_code=evidence["reason"],
        case_id=case.id,
    )
    if evidence["reason"] == TerminationReason.FALSE_INFORMATION and "bar_days" in evidence:
        await conn.execute(
            """INSERT INTO identity_bars (id_number_index, case_id, barred_until)
               SELECT DISTINCT id_number_index, $2::uuid, now() + make_interval(days => $3::int)
               FROM real_name_verifications WHERE account_id = $1 AND status = 'verified'""",
            account_id,
            case.id,
            int(evidence["bar_days"]),
        )
