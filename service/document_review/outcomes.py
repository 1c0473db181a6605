"""Once a document review is decided, its photos are no longer needed."""

from __future__ import annotations

import asyncpg

from service.cases.records import Case
from service.cases.states import CaseState, is_closed
from service.documents import store as documents


async def document_review_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    if is_closed(after):
        listed = await documents.for_case(conn, case.id)
        await documents.erase(conn, [row.id for row in listed])
