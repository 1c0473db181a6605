"""What a real-name case's outcome does to the verification it tracks.

Automated outcomes already set the verification's status (verification.py); these rules cover
what people decide: an operator approving a case referred for review (say, a possible duplicate
identity), rejecting it, an appeal overturning a rejection, or the case ending unanswered.
"""

from __future__ import annotations

import asyncpg

from service.cases.records import Case
from service.cases.states import CaseState
from service.realname import store

# Case state reached -> (verification statuses it applies to, status they take).
STATUS_FOR_CASE_STATE: dict[CaseState, tuple[frozenset[str], str]] = {
    CaseState.APPROVED: (frozenset({"pending", "rejected"}), "verified"),
    CaseState.REJECTED: (frozenset({"pending"}), "rejected"),
    CaseState.EXPIRED: (frozenset({"pending"}), "withdrawn"),
    CaseState.WITHDRAWN: (frozenset({"pending"}), "withdrawn"),
}


async def real_name_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    rule = STATUS_FOR_CASE_STATE.get(after)
    if rule is None:
        return
    applies_to, status = rule
    verification = await store.lock_for_case(conn, case.id)
    if verification is None or verification.status not in applies_to:
        return
    if status == "verified":
        live = await store.live_for_account(conn, case.subject_account_id)
        if live is not None and live.id != verification.id:
            # The person started another verification since; that one decides.
            return
    await store.set_status(conn, verification.id, status)
