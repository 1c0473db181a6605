"""HTTP for passkeys: enrolling, listing and removing them, and signing in with one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from service.accounts.schemas import SessionCreated, SessionGrant
from service.http.clients import client_address, user_agent
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.http.rate_limits import RateLimitGroup
from service.passkeys.enrolment import PasskeyView, creation_options, enrol, list_passkeys, remove_passkey
from service.passkeys.schemas import (
    Enrolment,
    EnrolmentOptionsRequest,
    PasskeyInfo,
    PasskeyRemoval,
    PasskeySignIn,
    SignInOptions,
    SignInOptionsRequest,
)
from service.passkeys.sign_in import request_options, sign_in_with_passkey
from service.sessions.auth import SELF_SERVICE
from service.sessions.cookies import session_cookie
from service.sessions.reauthentication import confirm_password


def _info(view: PasskeyView) -> PasskeyInfo:
    return PasskeyInfo(view.id, view.name, view.created_at, view.last_used_at, view.backup_eligible, view.backed_up)


class PasskeyController(Controller):
    path = "/v1/me/passkeys"
    tags = ["passkeys"]

    @post(
        "/options",
        status_code=200,
        summary="PublicKeyCredentialCreationOptions for a new passkey, after re-entering the password",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def options(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        data: JSONBody[EnrolmentOptionsRequest],
    ) -> dict[str, Any]:
        await confirm_password(runtime, principal, data.password, client_address(request))
        return await creation_options(runtime, principal)

    @post("/", status_code=201, summary="Enrol a passkey: the browser's answer to the creation options")
    async def enrol(
        self, runtime: CurrentRuntime, principal: SignedIn, actor: Acting, data: JSONBody[Enrolment]
    ) -> PasskeyInfo:
        return _info(await enrol(runtime, principal, data.name, data.credential.as_json(), actor))

    @get("/", summary="One's passkeys", opt=SELF_SERVICE)
    async def list_own(self, runtime: CurrentRuntime, principal: SignedIn) -> list[PasskeyInfo]:
        return [_info(view) for view in await list_passkeys(runtime, principal)]

    @delete(
        "/{passkey_id:uuid}",
        status_code=204,
        summary="Remove one of one's passkeys, after re-entering the password",
        opt={**SELF_SERVICE, "rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def remove(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        passkey_id: FromPath[UUID],
        data: JSONBody[PasskeyRemoval],
    ) -> None:
        await confirm_password(runtime, principal, data.password, client_address(request))
        await remove_passkey(runtime, principal, passkey_id, actor)


class PasskeySignInController(Controller):
    path = "/v1/sessions/passkey"
    tags = ["sessions"]

    @post(
        "/options",
        status_code=200,
        summary="Request options for signing in with a passkey, and the flow they belong to",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def options(self, runtime: CurrentRuntime, data: JSONBody[SignInOptionsRequest]) -> SignInOptions:
        flow = await request_options(runtime, data.identifier)
        return SignInOptions(flow.flow_id, flow.options)

    @post("/", status_code=201, summary="Sign in with a passkey", opt={"rate_limit": RateLimitGroup.SIGN_IN})
    async def sign_in(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[PasskeySignIn]
    ) -> Response[SessionCreated]:
        signed_in = await sign_in_with_passkey(
            runtime, data.flow_id, data.credential.as_json(), client_address(request), user_agent(request)
        )
        session = signed_in.session
        return Response(
            SessionCreated(
                signed_in.account_id,
                signed_in.state,
                SessionGrant(session.session_id, session.token, session.expires_at),
            ),
            status_code=201,
            cookies=[session_cookie(runtime.settings, session.token, session.expires_at)],
        )
