"""What a correction case's outcome does: approval applies the corrected values."""

from __future__ import annotations

import uuid

import asyncpg

from service.accounts import store as accounts
from service.cases.records import Case
from service.cases.states import CaseState
from service.corrections import store
from service.corrections.store import CorrectionState
from service.realname import store as realname
from service.recipients.notices import NoticeEvent, queue_notices

_CLOSING_STATUS = {
    CaseState.REJECTED: CorrectionState.REFUSED,
    CaseState.EXPIRED: CorrectionState.WITHDRAWN,
    CaseState.WITHDRAWN: CorrectionState.WITHDRAWN,
}


async def correction_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    correction = await store.lock_for_case(conn, case.id)
    if correction is None or correction.status is not CorrectionState.PENDING:
        return
    if after is CaseState.APPROVED:
        if correction.birth_date is not None:
            await accounts.replace_birth_date(conn, correction.account_id, correction.birth_date)
        if correction.legal_name is not None or correction.id_number is not None:
            await realname.supersede_with_correction(
                conn,
                verification_id=uuid.uuid4(),
                account_id=correction.account_id,
                case_id=correction.case_id,
                document_type=correction.document_type,
                legal_name=correction.legal_name,
                id_number=correction.id_number,
                id_number_index=correction.id_number_index,
                birth_date=correction.identity_birth_date,
            )
        await store.set_status(conn, correction.id, CorrectionState.APPLIED)
        fields = [
            name
            for name, value in (
                ("birth_date", correction.birth_date),
                ("legal_name", correction.legal_name),
                ("id_number", correction.id_number),
            )
            if value is not None
        ]
        await queue_notices(conn, correction.account_id, NoticeEvent.DATA_CORRECTED, {"fields": ",".join(fields)})
    elif (status := _CLOSING_STATUS.get(after)) is not None:
        await store.set_status(conn, correction.id, status)
