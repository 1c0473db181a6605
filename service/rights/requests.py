"""Users' rights requests a person decides: tracked as cases with a due date, worked by privacy
officers from the queue (sorted by due date), answered with written reasons when refused.

Access and export are answered at once by the export; deleting the account by cancellation;
withdrawing a consent by the consents API. What needs a person (correcting data nobody can
check automatically, deleting some data but not the account, objecting to an automated decision
and asking for a human review, anything else) comes here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

import msgspec

from service.audit import Actor, AuditEntry
from service.cases import store as cases
from service.cases.cases import conclude_checks, open_case
from service.cases.catalogue import CaseType
from service.cases.schemas import Evidence, OwnCase
from service.cases.states import CaseEvent
from service.cases.subjects import own_cases
from service.errors import NotFound, RateLimited
from service.http.schemas import FREE_TEXT, RequestBody
from service.operators.roles import Role
from service.runtime import Runtime

OPEN_REQUESTS_LIMIT = 5
# Who works rights requests (the case type's workers, declared in the manifest); the console's
# page of open requests declares the same roles.
REQUEST_WORKERS = frozenset({Role.PRIVACY_OFFICER})


class RightsRequestKind(StrEnum):
    CORRECTION = "correction"
    DELETION = "deletion"
    OBJECTION = "objection"
    RESTRICTION = "restriction"
    OTHER = "other"


class RightsRequest(RequestBody):
    """What is asked for, in the person's words; for an objection, the case decided automatically."""

    kind: RightsRequestKind
    statement: Annotated[str, msgspec.Meta(min_length=10, max_length=4000, pattern=FREE_TEXT)]
    about_case_id: UUID | None = None


async def file_request(runtime: Runtime, account_id: UUID, body: RightsRequest, actor: Actor) -> OwnCase:
    async with runtime.database.transaction() as conn:
        open_ones = await cases.open_of_subject(conn, account_id, [CaseType.DATA_SUBJECT_REQUEST.value])
        if len(open_ones) >= OPEN_REQUESTS_LIMIT:
            raise RateLimited("too_many_open_requests", "Wait for your open requests to be answered")
        evidence = [
            Evidence("kind", body.kind.value, body.kind.value),
            Evidence("statement", body.statement, f"{len(body.statement)} characters"),
        ]
        if body.about_case_id is not None:
            about = await cases.fetch(conn, body.about_case_id)
            if about is None or about.subject_account_id != account_id:
                raise NotFound("case_not_found", "No such case")
            evidence.append(Evidence("about_case_id", str(body.about_case_id), str(body.about_case_id)))
        case = await open_case(
            conn,
            runtime.vault,
            case_type=CaseType.DATA_SUBJECT_REQUEST,
            subject_account_id=account_id,
            evidence=evidence,
            actor=actor,
            due_in=runtime.settings.rights_request_due,
        )
        await conclude_checks(conn, case.id, CaseEvent.REFER, [], reason_code="checks_inconclusive")
        details = {"kind": body.kind.value, "case": str(case.id)}
        await runtime.audit.append(conn, AuditEntry(actor, "rights.request_filed", "account", str(account_id), details))
    return next(c for c in await own_cases(runtime, account_id) if c.case_id == case.id)


async def requests_of(runtime: Runtime, account_id: UUID) -> list[OwnCase]:
    return [c for c in await own_cases(runtime, account_id) if c.case_type is CaseType.DATA_SUBJECT_REQUEST]
