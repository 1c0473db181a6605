"""HTTP for exporting one's data."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from service.cases.schemas import OwnCase
from service.http.clients import client_address
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.http.schemas import RequestBody
from service.rights.exports import ExportView, download, exports_of, request_export
from service.rights.requests import RightsRequest, file_request, requests_of
from service.sessions.auth import WHILE_RESTRICTED


class ExportRequest(RequestBody):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class ExportController(Controller):
    path = "/v1/me/exports"
    tags = ["data rights"]
    # Taking one's data away is a right a suspended or cancelling account keeps.
    opt = WHILE_RESTRICTED

    @post("/", status_code=202, summary="Ask for an archive of everything held about one (password again)")
    async def create(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        data: JSONBody[ExportRequest],
    ) -> ExportView:
        return await request_export(runtime, principal, data.password, client_address(request))

    @get("/", summary="One's exports and whether they are ready")
    async def list_own(self, runtime: CurrentRuntime, principal: SignedIn) -> list[ExportView]:
        return await exports_of(runtime, principal.account_id)

    @get("/{export_id:uuid}/archive", summary="Download a ready export (JSON)", media_type="application/json")
    async def archive(self, runtime: CurrentRuntime, principal: SignedIn, export_id: FromPath[UUID]) -> Response[bytes]:
        content = await download(runtime, principal.account_id, export_id)
        headers = {
            "Content-Disposition": f'attachment; filename="idv-export-{export_id}.json"',
            "Cache-Control": "no-store",
        }
        return Response(content, media_type="application/json", headers=headers)


class RightsRequestController(Controller):
    path = "/v1/me/requests"
    tags = ["data rights"]
    opt = WHILE_RESTRICTED

    @post("/", status_code=201, summary="File a rights request a person answers (due within IDV_RIGHTS_REQUEST_DUE)")
    async def file(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[RightsRequest],
    ) -> OwnCase:
        return await file_request(runtime, principal.account_id, data, actor)

    @get("/", summary="One's rights requests: status, due date, and the written reasons of a refusal")
    async def list_own(self, runtime: CurrentRuntime, principal: SignedIn) -> list[OwnCase]:
        return await requests_of(runtime, principal.account_id)
