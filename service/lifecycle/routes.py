"""HTTP for cancelling one's account, and for keeping it after all."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, post
from litestar.params import JSONBody

from service.http.clients import client_address
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.lifecycle.cancellation import cancel, keep
from service.lifecycle.schemas import CancellationRequest, CancellationStatus
from service.sessions.auth import WHILE_RESTRICTED


class CancellationController(Controller):
    path = "/v1/me/cancellation"
    tags = ["account"]
    opt = WHILE_RESTRICTED

    @post("/", status_code=202, summary="Cancel the account: erased after the cooling-off period")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[CancellationRequest],
    ) -> CancellationStatus:
        return await cancel(runtime, principal, data, client_address(request), actor)

    @delete("/", status_code=200, summary="Keep the account: withdraw the cancellation during cooling-off")
    async def keep(self, runtime: CurrentRuntime, principal: SignedIn, actor: Acting) -> CancellationStatus:
        return await keep(runtime, principal, actor)
