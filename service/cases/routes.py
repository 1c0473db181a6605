"""HTTP for the review queue (operators) and for one's own cases (users)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from service.cases import decisions, queue, subjects
from service.cases.access import refusals_audited
from service.cases.catalogue import REASONS, CaseType, user_message
from service.cases.schemas import (
    AppealRequest,
    CaseDetail,
    CaseSummary,
    DecisionOutcome,
    DecisionRequest,
    OwnCase,
    ReasonCodeView,
    RevealedEvidence,
    RevealRequest,
    SendBackRequest,
)
from service.cases.states import CaseState
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.i18n.catalogues import in_request_language
from service.operators.auth import allow, operator_guard
from service.operators.roles import CASE_WORKERS, SECOND_APPROVERS
from service.operators.routes import CurrentOperator
from service.sessions.auth import WHILE_RESTRICTED

EvidenceName = Annotated[str, PathParameter(pattern=r"^[a-z_]{1,64}$")]


class ReviewQueueController(Controller):
    path = "/v1/operator/cases"
    tags = ["review cases"]
    guards = [operator_guard]

    @get(
        "/",
        summary="The review queue: open cases of the types one's roles cover, in pages (`after` the previous "
        "page's `X-Next-Cursor`)",
        opt=allow(CASE_WORKERS),
        response_headers=[
            ResponseHeader(
                name="X-Next-Cursor",
                description="the cursor of the next page, to pass as `after`; absent on the last page",
                documentation_only=True,
            )
        ],
    )
    async def list_cases(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_type: FromQuery[CaseType | None] = None,
        in_state: Annotated[CaseState | None, QueryParameter(name="state")] = None,
        due_before: FromQuery[datetime | None] = None,
        mine: FromQuery[bool] = False,
        unassigned: FromQuery[bool] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        after: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    ) -> Response[list[CaseSummary]]:
        page = await queue.queue_page(
            runtime,
            operator,
            case_type=case_type.value if case_type else None,
            state=in_state,
            due_before=due_before,
            mine=mine,
            unassigned=unassigned,
            limit=limit,
            after=after,
        )
        headers = {} if page.next_cursor is None else {"x-next-cursor": page.next_cursor}
        return Response(page.cases, headers=headers)

    @get("/reason-codes", summary="The reason-code catalogue", opt=allow(CASE_WORKERS))
    async def reason_codes(self, operator: CurrentOperator) -> list[ReasonCodeView]:
        return [
            # In the operator's language (Accept-Language), as the person's texts are in theirs.
            ReasonCodeView(r.code, sorted(r.decisions), in_request_language(r.internal), user_message(r.code) or "")
            for r in REASONS.values()
            if r.decisions
        ]

    @get("/{case_id:uuid}", summary="One case, personal values masked (audited)", opt=allow(CASE_WORKERS))
    async def view(self, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]) -> CaseDetail:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await queue.view(runtime, operator, case_id)

    @post("/{case_id:uuid}/claim", status_code=200, summary="Claim a case", opt=allow(CASE_WORKERS))
    async def claim(self, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]) -> CaseSummary:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await queue.claim(runtime, operator, case_id)

    @post("/{case_id:uuid}/release", status_code=200, summary="Release one's claim", opt=allow(CASE_WORKERS))
    async def release(self, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]) -> CaseSummary:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await queue.release(runtime, operator, case_id)

    @post(
        "/{case_id:uuid}/evidence/{name:str}/reveal",
        status_code=200,
        summary="Reveal one masked value, giving a reason (audited)",
        opt=allow(CASE_WORKERS),
    )
    async def reveal(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        name: EvidenceName,
        data: JSONBody[RevealRequest],
    ) -> RevealedEvidence:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await queue.reveal(runtime, operator, case_id, name, data.reason)

    @post(
        "/{case_id:uuid}/decision",
        status_code=200,
        summary="Decide a case with a reason code; four-eyes decisions are staged",
        opt=allow(CASE_WORKERS),
    )
    async def decide(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        data: JSONBody[DecisionRequest],
    ) -> DecisionOutcome:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await decisions.decide(
                runtime, operator, case_id, data.decision, data.reason_code, data.note, claim=data.claim
            )

    @post(
        "/{case_id:uuid}/staged-decision/confirm",
        status_code=200,
        summary="Confirm a decision another operator staged (four eyes)",
        opt=allow(SECOND_APPROVERS),
    )
    async def confirm(
        self, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]
    ) -> DecisionOutcome:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await decisions.confirm(runtime, operator, case_id)

    @post(
        "/{case_id:uuid}/staged-decision/send-back",
        status_code=200,
        summary="Send a staged decision back for review",
        opt=allow(SECOND_APPROVERS),
    )
    async def send_back(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        data: JSONBody[SendBackRequest],
    ) -> DecisionOutcome:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await decisions.send_back(runtime, operator, case_id, data.note)


class OwnCasesController(Controller):
    path = "/v1/me/cases"
    tags = ["review cases"]
    # A suspended account appeals from here.
    opt = WHILE_RESTRICTED

    @get("/", summary="One's own verification cases, with user-safe reasons")
    async def list_own(self, runtime: CurrentRuntime, principal: SignedIn) -> list[OwnCase]:
        return await subjects.own_cases(runtime, principal.account_id)

    @post("/{case_id:uuid}/appeal", status_code=201, summary="Appeal a rejection")
    async def appeal(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        case_id: FromPath[UUID],
        data: JSONBody[AppealRequest],
    ) -> OwnCase:
        appeal_id = await subjects.appeal(runtime, actor, principal.account_id, case_id, data.statement)
        cases = await subjects.own_cases(runtime, principal.account_id)
        return next(c for c in cases if c.case_id == appeal_id)

    @post("/{case_id:uuid}/withdraw", status_code=200, summary="Withdraw an open case")
    async def withdraw(
        self, runtime: CurrentRuntime, principal: SignedIn, actor: Acting, case_id: FromPath[UUID]
    ) -> OwnCase:
        await subjects.withdraw(runtime, actor, principal.account_id, case_id)
        cases = await subjects.own_cases(runtime, principal.account_id)
        return next(c for c in cases if c.case_id == case_id)
