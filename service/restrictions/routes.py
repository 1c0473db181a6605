"""HTTP for senior reviewers restricting an account and lifting the restriction."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from service.http.dependencies import CurrentRuntime
from service.operators.auth import allow, operator_guard
from service.operators.roles import ACCOUNT_MEASURES
from service.operators.routes import CurrentOperator
from service.restrictions.restrictions import LiftRequest, RestrictionRequest, RestrictionView, lift, restrict


class RestrictionController(Controller):
    path = "/v1/operator/accounts/{account_id:uuid}/restriction"
    tags = ["review cases"]
    guards = [operator_guard]

    @post(
        "/",
        status_code=200,
        summary="Restrict an account while a doubt is checked (only verification, appeals, data rights work)",
        opt=allow(ACCOUNT_MEASURES),
    )
    async def restrict(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        account_id: FromPath[UUID],
        data: JSONBody[RestrictionRequest],
    ) -> RestrictionView:
        return await restrict(runtime, operator, account_id, data)

    @post("/lift", status_code=200, summary="Lift an account's restriction", opt=allow(ACCOUNT_MEASURES))
    async def lift(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        account_id: FromPath[UUID],
        data: JSONBody[LiftRequest],
    ) -> RestrictionView:
        return await lift(runtime, operator, account_id, data)
