"""What a face case's outcome does: the operator's decision on the grey band settles the attempt,
and the images kept for that review are erased with it (no retention beyond the decision)."""

from __future__ import annotations

import asyncpg

from service.cases.records import Case
from service.cases.states import CaseState
from service.face import store
from service.face.store import FaceStatus

# Case state reached -> the status an attempt under review takes, and whether its template stays.
STATUS_FOR_CASE_STATE: dict[CaseState, tuple[str, bool]] = {
    CaseState.APPROVED: ("verified", True),
    CaseState.REJECTED: ("rejected", False),
    CaseState.WITHDRAWN: ("withdrawn", False),
    CaseState.EXPIRED: ("withdrawn", False),
}

OPERATOR_DECISIONS = frozenset({CaseState.APPROVED, CaseState.REJECTED})
UNSETTLED = frozenset({FaceStatus.IN_REVIEW, FaceStatus.CHALLENGED, FaceStatus.PROCESSING})


async def face_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    rule = STATUS_FOR_CASE_STATE.get(after)
    if rule is None:
        return
    status, keep_template = rule
    for attempt in await store.lock_for_case(conn, case.id):
        if attempt.status in UNSETTLED:
            # An operator's decision settles the attempt under review; open challenges just close.
            under_review = attempt.status is FaceStatus.IN_REVIEW
            decided_by = "operator" if under_review and after in OPERATOR_DECISIONS else None
            await store.settle(conn, attempt.id, status, keep_template=keep_template, decided_by=decided_by)
    await store.erase_samples_of_case(conn, case.id)
