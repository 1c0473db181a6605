"""HTTP for registration and one's own profile; operators' view of an account (look-up by identifier, by id)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody

from service.accounts.lookup import AccountLookup, AccountsFound, OperatorAccountView, account_view, look_up
from service.accounts.profile import change_profile, read_profile
from service.accounts.registration import register
from service.accounts.schemas import (
    Profile,
    ProfileChanges,
    RegistrationRequest,
    RegistrationResponse,
    SessionGrant,
)
from service.http.clients import client_address, user_agent
from service.http.dependencies import CurrentRuntime, SignedIn
from service.http.rate_limits import RateLimitGroup
from service.i18n.languages import request_language
from service.operators.auth import allow, operator_guard
from service.operators.roles import ACCOUNT_READERS
from service.operators.routes import CurrentOperator
from service.sessions.auth import STATUS_CHECK
from service.sessions.cookies import session_cookie


class RegistrationController(Controller):
    path = "/v1/registrations"
    tags = ["accounts"]

    @post(
        "/",
        summary="Register an account; answers with a session and sends verification codes",
        opt={"rate_limit": RateLimitGroup.REGISTRATION},
    )
    async def create(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[RegistrationRequest]
    ) -> Response[RegistrationResponse]:
        registered = await register(
            runtime,
            data,
            client_address=client_address(request),
            user_agent=user_agent(request),
            accepted_language=request_language.get(),
        )
        session = registered.session
        body = RegistrationResponse(
            account_id=registered.account_id,
            state=registered.state,
            session=SessionGrant(session.session_id, session.token, session.expires_at),
            codes_sent_to=registered.codes_sent_to,
        )
        return Response(
            body, status_code=201, cookies=[session_cookie(runtime.settings, session.token, session.expires_at)]
        )


class ProfileController(Controller):
    path = "/v1/me"
    tags = ["accounts"]

    @get("/", summary="One's own profile, with contact details masked", opt=STATUS_CHECK)
    async def read(self, runtime: CurrentRuntime, principal: SignedIn) -> Profile:
        return await read_profile(runtime, principal.account_id)

    @patch("/", summary="Change the fields that are not locked")
    async def change(self, runtime: CurrentRuntime, principal: SignedIn, data: JSONBody[ProfileChanges]) -> Profile:
        return await change_profile(runtime, principal.account_id, data)


class OperatorAccountsController(Controller):
    path = "/v1/operator/accounts"
    tags = ["review cases"]
    guards = [operator_guard]

    # POST, so that the identifier never appears in an address (access logs, history, referrers).
    @post(
        "/lookup",
        status_code=200,
        summary="Find an account by exact e-mail, phone or ID number, with a reason (audited without the identifier)",
        opt={**allow(ACCOUNT_READERS), "rate_limit": RateLimitGroup.ACCOUNT_LOOKUPS},
    )
    async def look_up(
        self, runtime: CurrentRuntime, operator: CurrentOperator, data: JSONBody[AccountLookup]
    ) -> AccountsFound:
        return await look_up(runtime, operator, data)

    @get(
        "/{account_id:uuid}",
        summary="An account: state history, cases of one's types, restrictions, masked contacts (audited)",
        opt=allow(ACCOUNT_READERS),
    )
    async def view(
        self, runtime: CurrentRuntime, operator: CurrentOperator, account_id: FromPath[UUID]
    ) -> OperatorAccountView:
        return await account_view(runtime, operator, account_id)
