"""HTTP for the recipient registry, the disclosure log and the notices still owed."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from service.http.dependencies import CurrentRuntime
from service.operators.auth import allow, operator_guard
from service.operators.roles import ADMINS, AUDIT_READERS
from service.operators.routes import CurrentOperator
from service.recipients.notices import resend
from service.recipients.registry import (
    Disclosure,
    NewRecipient,
    RecipientView,
    UnacknowledgedNotice,
    disclose,
    listed,
    register,
    unacknowledged,
)


class RecipientController(Controller):
    path = "/v1/operator/recipients"
    tags = ["recipients"]
    guards = [operator_guard]

    @post("/", status_code=201, summary="Register a recipient and its signed webhook", opt=allow(ADMINS))
    async def create(
        self, runtime: CurrentRuntime, operator: CurrentOperator, data: JSONBody[NewRecipient]
    ) -> RecipientView:
        return await register(runtime, operator, data)

    @get("/", summary="The recipients", opt=allow(AUDIT_READERS))
    async def list_all(self, runtime: CurrentRuntime, operator: CurrentOperator) -> list[RecipientView]:
        return await listed(runtime)

    @post(
        "/{recipient_id:uuid}/disclosures",
        status_code=204,
        summary="Record what categories of a person's data a recipient received",
        opt=allow(ADMINS),
    )
    async def disclosed(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        recipient_id: FromPath[UUID],
        data: JSONBody[Disclosure],
    ) -> None:
        await disclose(runtime, operator, recipient_id, data)

    @post(
        "/notices/{notice_id:uuid}/resend",
        status_code=202,
        summary="Deliver a notice again (after the recipient fixed its endpoint)",
        opt=allow(AUDIT_READERS),
    )
    async def resend_notice(
        self, runtime: CurrentRuntime, operator: CurrentOperator, notice_id: FromPath[UUID]
    ) -> None:
        await resend(runtime, operator, notice_id)

    @get("/notices/unacknowledged", summary="Notices recipients have not acknowledged", opt=allow(AUDIT_READERS))
    async def owed(self, runtime: CurrentRuntime, operator: CurrentOperator) -> list[UnacknowledgedNotice]:
        return await unacknowledged(runtime)
