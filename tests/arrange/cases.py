"""Cases as the verification capabilities will open them: through the domain functions."""

from __future__ import annotations

import uuid

import httpx

from service.audit import Actor
from service.cases.cases import conclude_checks, open_case
from service.cases.catalogue import CaseType
from service.cases.schemas import AutomatedResult, Evidence
from service.cases.states import CaseEvent
from service.runtime import Runtime
from tests.helpers import register

ID_NUMBER = "11010519491231002X"


async def case_in_review(
    client: httpx.AsyncClient,
    runtime: Runtime,
    *,
    case_type: CaseType = CaseType.REAL_NAME,
    account_id: uuid.UUID | None = None,
    child: bool = False,
) -> uuid.UUID:
    """A real-name case whose automated checks referred it to a person."""
    if account_id is None:
        suffix = uuid.uuid4().hex[:8]
        body = await register(client, email=f"{suffix}@example.com", username=f"user_{suffix}", phone=None)
        account_id = uuid.UUID(body["account_id"])
    async with runtime.database.transaction() as conn:
        case = await open_case(
            conn,
            runtime.vault,
            case_type=case_type,
            subject_account_id=account_id,
            evidence=[
                Evidence("legal_name", "张三", "张*"),
                Evidence("id_number", ID_NUMBER, "1101**********002X"),
            ],
            actor=Actor.user(account_id),
            subject_is_child=child,
        )
        await conclude_checks(
            conn,
            case.id,
            CaseEvent.REFER,
            [AutomatedResult("real_name", "inconclusive", "sandbox-registry 1.0", score=0.62, threshold=0.8)],
            reason_code="checks_inconclusive",
        )
    return case.id
