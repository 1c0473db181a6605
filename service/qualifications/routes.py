"""HTTP for one's qualifications, and for operators revoking one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from service.documents.intake import MAX_UPLOAD_BODY
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.http.request_guard import ACCEPTS_UPLOAD
from service.operators.auth import allow, operator_guard
from service.operators.roles import Role
from service.operators.routes import CurrentOperator
from service.qualifications import certification
from service.qualifications.lifecycle import revoke
from service.qualifications.schemas import (
    DocumentReceipt,
    QualificationRequest,
    QualificationView,
    Revocation,
    WorkEmailCode,
)
from service.qualifications.states import QualificationState
from service.sessions.auth import FOR_VERIFICATION


class QualificationController(Controller):
    path = "/v1/me/qualifications"
    tags = ["verifications"]
    opt = FOR_VERIFICATION

    @post("/", status_code=201, summary="Declare a qualification; a code goes to the work e-mail")
    async def start(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[QualificationRequest],
    ) -> QualificationView:
        return await certification.start(runtime, principal.account_id, data, actor)

    @get("/", summary="One's qualifications, newest first")
    async def list_own(self, runtime: CurrentRuntime, principal: SignedIn) -> list[QualificationView]:
        return await certification.qualifications_of(runtime, principal.account_id)

    @post("/{qualification_id:uuid}/work-email/code", status_code=204, summary="Send the work e-mail code again")
    async def resend(self, runtime: CurrentRuntime, principal: SignedIn, qualification_id: FromPath[UUID]) -> None:
        await certification.resend_work_email_code(runtime, principal.account_id, qualification_id)

    @post("/{qualification_id:uuid}/work-email/verify", status_code=200, summary="Confirm the work e-mail")
    async def verify(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        qualification_id: FromPath[UUID],
        data: JSONBody[WorkEmailCode],
    ) -> QualificationView:
        return await certification.verify_work_email(runtime, principal.account_id, qualification_id, data.code)

    @post(
        "/{qualification_id:uuid}/documents",
        status_code=201,
        summary="Add a document: the raw JPEG, PNG or PDF file as the body (judged by its bytes, not its type)",
        opt=ACCEPTS_UPLOAD,
        request_max_body_size=MAX_UPLOAD_BODY,
    )
    async def add_document(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        qualification_id: FromPath[UUID],
    ) -> DocumentReceipt:
        # The body is read only once the qualification is known to be one's own and to have room.
        return await certification.add_document(runtime, principal.account_id, qualification_id, request.body, actor)

    @post("/{qualification_id:uuid}/submit", status_code=200, summary="Submit for review by an operator")
    async def submit(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        qualification_id: FromPath[UUID],
    ) -> QualificationView:
        return await certification.submit(runtime, principal.account_id, qualification_id, actor)

    @post(
        "/{qualification_id:uuid}/withdraw",
        status_code=200,
        summary="Withdraw a qualification being prepared or reviewed",
    )
    async def withdraw(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        qualification_id: FromPath[UUID],
    ) -> QualificationView:
        return await certification.withdraw(runtime, principal.account_id, qualification_id, actor)


class QualificationRevocationController(Controller):
    path = "/v1/operator/qualifications"
    tags = ["review cases"]
    guards = [operator_guard]

    @post(
        "/{qualification_id:uuid}/revoke",
        status_code=200,
        summary="Revoke a qualification in force, with a reason code (audited)",
        opt=allow(frozenset({Role.SENIOR_REVIEWER})),
    )
    async def revoke(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        qualification_id: FromPath[UUID],
        data: JSONBody[Revocation],
    ) -> dict[str, QualificationState]:
        return {"status": await revoke(runtime, operator, qualification_id, data.reason_code, data.note)}
