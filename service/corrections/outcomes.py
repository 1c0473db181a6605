"""What a correction case's outcome does: approval applies the corrected values."""

from __future__ import annotations

import uuid

import asyncpg

from service.cases.cases import Case
from service.cases.states import CaseState
from service.corrections import store
from service.recipients.notices import NoticeEvent, queue_notices

_CLOSING_STATUS = {
    CaseState.REJECTED: "refused",
    CaseState.EXPIRED: "withdrawn",
    CaseState.WITHDRAWN: "withdrawn",
}


async def correction_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    correction = await store.lock_for_case(conn, case.id)
    if correction is None or correction["status"] != "pending":
        return
    if after is CaseState.APPROVED:
        if correction["birth_date"] is not None:
            await store.apply_birth_date(conn, correction["account_id"], correction["birth_date"])
        if correction["legal_name"] is not None or correction["id_number"] is not None:
            await store.replace_verification(conn, correction, uuid.uuid4())
        await store.set_status(conn, correction["id"], "applied")
        fields = [name for name in ("birth_date", "legal_name", "id_number") if correction[name] is not None]
        await queue_notices(conn, correction["account_id"], NoticeEvent.DATA_CORRECTED, {"fields": ",".join(fields)})
    elif (status := _CLOSING_STATUS.get(after)) is not None:
        await store.set_status(conn, correction["id"], status)
