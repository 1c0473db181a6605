"""HTTP for senior reviewers proposing to terminate an account (a second operator confirms it in
the case queue)."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from service.http.dependencies import CurrentRuntime
from service.operators.auth import allow, operator_guard
from service.operators.roles import ACCOUNT_MEASURES
from service.operators.routes import CurrentOperator
from service.termination.termination import TerminationProposal, propose


class TerminationProposed(msgspec.Struct):
    case_id: UUID


class TerminationController(Controller):
    path = "/v1/operator/accounts"
    tags = ["review cases"]
    guards = [operator_guard]

    @post(
        "/{account_id:uuid}/termination",
        status_code=201,
        summary="Propose ending an account (false information or abuse); two operators decide",
        opt=allow(ACCOUNT_MEASURES),
    )
    async def propose(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        account_id: FromPath[UUID],
        data: JSONBody[TerminationProposal],
    ) -> TerminationProposed:
        return TerminationProposed(await propose(runtime, operator, account_id, data))
