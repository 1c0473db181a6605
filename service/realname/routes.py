"""HTTP for one's real-name verification."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import JSONBody

from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.realname import store
from service.realname.schemas import RealNameRequest, RealNameStatus
from service.realname.verification import Submission, submit
from service.runtime import Runtime
from service.sessions.auth import FOR_VERIFICATION
from verification.identity_numbers import IdDocumentType


class RealNameController(Controller):
    path = "/v1/me/verifications/real-name"
    tags = ["verifications"]
    opt = FOR_VERIFICATION

    @post("/", summary="Verify one's legal name and ID number (needs the identity_data consent)")
    async def start(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[RealNameRequest],
    ) -> Response[RealNameStatus]:
        submission = Submission(data.legal_name, data.document_type, data.id_number)
        status = await submit(runtime, runtime.real_name, principal.account_id, submission, actor)
        body = await _status(runtime, principal.account_id)
        # 202 while a registry or an operator has yet to answer.
        return Response(body, status_code=202 if status == "pending" else 201)

    @get("/", summary="Where one's real-name verification stands")
    async def current(self, runtime: CurrentRuntime, principal: SignedIn) -> RealNameStatus:
        return await _status(runtime, principal.account_id)


async def _status(runtime: Runtime, account_id: UUID) -> RealNameStatus:
    async with runtime.database.connection() as conn:
        row = await store.latest_for_account(conn, account_id)
    if row is None:
        return RealNameStatus("none")
    return RealNameStatus(row.status, row.case_id, IdDocumentType(row.document_type), row.checked_at)
