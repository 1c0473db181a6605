"""HTTP for minors inviting a guardian, and guardians consenting."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from service.accounts.schemas import Profile
from service.guardians.consent import consent, guardianships_of, minor_profile, ward_of
from service.guardians.invitations import invite
from service.guardians.lifecycle import revoke
from service.guardians.schemas import (
    GuardianConsentRequest,
    GuardianInvitationRequest,
    GuardianshipView,
    InvitationSent,
)
from service.http.clients import client_address
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.rights.exports import ExportView, request_export
from service.rights.routes import ExportRequest
from service.sessions.auth import AWAITING_GUARDIAN, STATUS_CHECK


class GuardianController(Controller):
    path = "/v1"
    tags = ["minors"]

    @post(
        "/me/guardian-invitation",
        status_code=201,
        summary="A minor invites a parent or guardian (a code goes to their e-mail or phone)",
        opt=AWAITING_GUARDIAN,
    )
    async def invite(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[GuardianInvitationRequest],
    ) -> InvitationSent:
        return await invite(runtime, principal, data, actor)

    @post("/guardianships", status_code=201, summary="A real-name verified adult consents as a minor's guardian")
    async def consent(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[GuardianConsentRequest],
    ) -> GuardianshipView:
        return await consent(runtime, principal, data, actor)

    @post("/guardianships/{guardianship_id:uuid}/revoke", status_code=204, summary="A guardian withdraws consent")
    async def revoke(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        guardianship_id: FromPath[UUID],
    ) -> None:
        await revoke(runtime, principal, guardianship_id, actor)

    @get("/guardianships/{guardianship_id:uuid}/minor", summary="A guardian views the minor's profile (audited)")
    async def minor(self, runtime: CurrentRuntime, principal: SignedIn, guardianship_id: FromPath[UUID]) -> Profile:
        return await minor_profile(runtime, principal, guardianship_id)

    @post(
        "/guardianships/{guardianship_id:uuid}/exports",
        status_code=202,
        summary="A guardian asks for an archive of the minor's data (password again; download from /v1/me/exports)",
    )
    async def export_minor(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        guardianship_id: FromPath[UUID],
        data: JSONBody[ExportRequest],
    ) -> ExportView:
        minor_id = await ward_of(runtime, principal, guardianship_id)
        return await request_export(runtime, principal, data.password, client_address(request), minor_id)

    @get("/me/guardianships", summary="One's guardians, or the minors one is guardian of", opt=STATUS_CHECK)
    async def mine(self, runtime: CurrentRuntime, principal: SignedIn) -> list[GuardianshipView]:
        return await guardianships_of(runtime, principal.account_id)
