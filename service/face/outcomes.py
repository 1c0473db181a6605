"""What a face case's outcome does: the operator's decision on the grey band settles the attempt,
and the images kept for that review are erased with it (no retention beyond the decision)."""

from __future__ import annotations

import asyncpg

from service.cases.records import Case
from service.cases.states import CaseState
from service.face import store

# Case state reached -> the status an attempt under review takes, and whether its template stays.
STATUS_FOR_CASE_STATE: dict[CaseState, tuple[str, bool]] = {
    CaseState.APPROVED: ("verified", True),
    CaseState.REJECTED: ("rejected", False),
    CaseState.WITHDRAWN: ("withdrawn", False),
    CaseState.EXPIRED: ("withdrawn", False),
}

OPERATOR_DECISIONS = frozenset({CaseState.APPROVED, CaseState.REJECTED})


async def face_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    rule = STATUS_FOR_CASE_STATE.get(after)
    if rule is None:
        return
    status, keep_template = rule
    for row in await store.lock_for_case(conn, case.id):
        if row["status"] in ("in_review", "challenged", "processing"):
            # An operator's decision settles the attempt under review; open challenges just close.
            decided_by = "operator" if row["status"] == "in_review" and after in OPERATOR_DECISIONS else None
            await store.settle(conn, row["id"], status, keep_template=keep_template, decided_by=decided_by)
    await store.erase_samples_of_case(conn, case.id)
