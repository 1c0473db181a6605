"""HTTP for correcting one's locked data."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from service.corrections.requests import corrections_of, request_correction
from service.corrections.schemas import CorrectionRequest, CorrectionStatus
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.sessions.auth import WHILE_RESTRICTED


class CorrectionController(Controller):
    path = "/v1/me/corrections"
    tags = ["data rights"]
    # Correcting one's data is a right a suspended account keeps.
    opt = WHILE_RESTRICTED

    @post("/", status_code=201, summary="Ask to correct the birth date, legal name or ID number (reviewed)")
    async def create(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[CorrectionRequest],
    ) -> CorrectionStatus:
        return await request_correction(runtime, principal.account_id, data, actor)

    @get("/", summary="One's correction requests, newest first")
    async def list_own(self, runtime: CurrentRuntime, principal: SignedIn) -> list[CorrectionStatus]:
        return await corrections_of(runtime, principal.account_id)
