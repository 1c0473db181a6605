"""HTTP for operators' passkeys in the console: signing in with one, and the Passkeys page (list,
enrol, remove) for any operator (HTTP in and out only).

The ceremonies are the operator API's own domain functions (``service.operators.passkeys``), with
the same challenge rules: a sign-in's challenge is single-use, lives five minutes and is bound to
the sign-in page that asked for it (the sha256 of its pre-session token), and the session it gives
is a console session (``SessionChannel.CONSOLE``). Enrolling and removing need the password again,
as the API's do; a session restricted to enrolling a first passkey (IDV_OPERATOR_REQUIRE_PASSKEY)
reaches the page, the options and the enrolment, as the API's reaches its endpoints, and then
signs in with the passkey for a full session. The browser's side is static/passkeys.js (no inline
script): it posts JSON with the page's CSRF token in the body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody

from service.console.pages import (
    AnyRequest,
    CurrentOperator,
    SignInFirst,
    anonymous_actor,
    console_error,
    console_guard,
    error_page,
    page_context,
    render,
    see_other,
    session_form,
)
from service.console.security import (
    PAGE_HEADERS,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    cleared_pre_session_cookie,
    cookie_name,
    csrf_matches,
    csrf_token,
    pre_session_digest,
    session_cookie,
)
from service.errors import DomainError, Forbidden
from service.http.clients import client_address, user_agent
from service.http.dependencies import CurrentRuntime
from service.http.problems import domain_problem, problem_response
from service.http.rate_limits import RateLimitGroup
from service.http.request_guard import ACCEPTS_FORM
from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody
from service.operators.auth import SessionChannel, allow
from service.operators.passkeys import (
    enrol,
    enrolment_options,
    list_passkeys,
    remove_passkey,
    sign_in_options,
    sign_in_with_passkey,
)
from service.operators.roles import ANY_ROLE
from service.operators.sign_in import confirm_operator_password, end_replaced_session
from service.passkeys.schemas import PasskeyCredential, PasskeyName
from service.runtime import Runtime

PASSKEYS_PATH = "/console/passkeys"
HOME_PATH = "/console/"
CsrfToken = Annotated[str, msgspec.Meta(max_length=128)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=NO_CONTROL_CHARACTERS)]


class PreSessionAsk(RequestBody):
    csrf_token: CsrfToken


class PasskeySignInAnswer(RequestBody):
    csrf_token: CsrfToken
    flow_id: UUID
    credential: PasskeyCredential


class EnrolmentOptionsAsk(RequestBody):
    csrf_token: CsrfToken
    password: Password


class PasskeyEnrolment(RequestBody):
    csrf_token: CsrfToken
    name: PasskeyName
    credential: PasskeyCredential


def _csrf_refused() -> Forbidden:
    return Forbidden("csrf_token_invalid", "This page has expired; reload it and try again")


def _pre_session(request: AnyRequest, runtime: Runtime, sent: str) -> str:
    """The sign-in page's pre-session token, once the body carries it (double submit)."""
    expected = request.cookies.get(cookie_name(runtime.settings, PRE_SESSION_COOKIE))
    if expected is None or not csrf_matches(expected, sent):
        raise _csrf_refused()
    return expected


def _session_csrf(request: AnyRequest, sent: str) -> None:
    token: str | None = getattr(request.state, "console_token", None)
    if token is None or not csrf_matches(csrf_token(token), sent):
        raise _csrf_refused()


def _json(body: dict[str, Any], status: int = 200, cookies: list[Any] | None = None) -> Response[Any]:
    return Response(body, status_code=status, headers=PAGE_HEADERS, cookies=cookies or [])


def ceremony_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    """The script's calls are answered as the API answers (problem+json); no session is a 401."""
    if isinstance(exc, SignInFirst):
        return problem_response(401, "unauthenticated", "Sign in to the console first")
    assert isinstance(exc, DomainError)
    return domain_problem(exc)


def page_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    if isinstance(exc, SignInFirst):
        return console_error(request, exc)
    assert isinstance(exc, DomainError)
    return error_page(request, exc, PASSKEYS_PATH)


class ConsolePasskeyCeremonyController(Controller):
    """The JSON calls of static/passkeys.js."""

    path = "/console"
    include_in_schema = False
    guards = [console_guard]
    exception_handlers = {SignInFirst: ceremony_error, DomainError: ceremony_error}

    @post("/sign-in/passkey/options", opt={"rate_limit": RateLimitGroup.SIGN_IN})
    async def sign_in_options(
        self, request: AnyRequest, runtime: CurrentRuntime, data: JSONBody[PreSessionAsk]
    ) -> Response[Any]:
        """Request options for a discoverable passkey, bound to this sign-in page."""
        pre_session = _pre_session(request, runtime, data.csrf_token)
        flow = await sign_in_options(runtime, pre_session_digest(pre_session))
        return _json({"flow_id": str(flow.flow_id), "options": flow.options})

    @post("/sign-in/passkey", opt={"rate_limit": RateLimitGroup.SIGN_IN})
    async def sign_in(
        self, request: AnyRequest, runtime: CurrentRuntime, data: JSONBody[PasskeySignInAnswer]
    ) -> Response[Any]:
        """The browser's assertion: a console session, as the API's passkey sign-in gives one."""
        pre_session = _pre_session(request, runtime, data.csrf_token)
        session = await sign_in_with_passkey(
            runtime,
            data.flow_id,
            data.credential.as_json(),
            client_address(request),
            user_agent(request),
            pre_session_digest=pre_session_digest(pre_session),
            channel=SessionChannel.CONSOLE,
        )
        if previous := request.cookies.get(cookie_name(runtime.settings, SESSION_COOKIE)):
            await end_replaced_session(runtime, previous, anonymous_actor(request))
        max_age = max(0, int((session.expires_at - datetime.now(UTC)).total_seconds()))
        cookies = [
            session_cookie(runtime.settings, session.token, max_age),
            cleared_pre_session_cookie(runtime.settings),
        ]
        return _json({"location": HOME_PATH}, cookies=cookies)

    @post(
        "/passkeys/options",
        opt={**allow(ANY_ROLE, while_enrolling_passkey=True), "rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def enrolment_options(
        self,
        request: AnyRequest,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        data: JSONBody[EnrolmentOptionsAsk],
    ) -> Response[Any]:
        """Creation options for a new passkey, after the password again (as the API asks)."""
        _session_csrf(request, data.csrf_token)
        await confirm_operator_password(runtime, operator.operator_id, data.password, client_address(request))
        return _json(await enrolment_options(runtime, operator))

    @post("/passkeys/enrolment", opt=allow(ANY_ROLE, while_enrolling_passkey=True))
    async def enrol(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, data: JSONBody[PasskeyEnrolment]
    ) -> Response[Any]:
        _session_csrf(request, data.csrf_token)
        view = await enrol(runtime, operator, data.name, data.credential.as_json())
        return _json({"id": str(view.id), "name": view.name, "location": PASSKEYS_PATH}, status=201)


class ConsolePasskeysController(Controller):
    """The Passkeys page and removing one (a plain form)."""

    path = "/console/passkeys"
    include_in_schema = False
    guards = [console_guard]
    exception_handlers = {SignInFirst: page_error, DomainError: page_error}

    @get("/", opt=allow(ANY_ROLE, while_enrolling_passkey=True))
    async def passkeys_page(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator
    ) -> Response[str]:
        context = {
            **page_context(request, operator),
            "passkeys": await list_passkeys(runtime, operator),
            "restricted": operator.restricted,
        }
        return render("passkeys.html", context)

    @post(
        "/{passkey_id:uuid}/remove",
        opt={**allow(ANY_ROLE), **ACCEPTS_FORM, "rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def remove(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, passkey_id: FromPath[UUID]
    ) -> Response[Any]:
        """Remove one of one's own passkeys, after the password again (as the API asks)."""
        fields = await session_form(request)
        password = fields.get("password", "")
        await confirm_operator_password(runtime, operator.operator_id, password, client_address(request))
        await remove_passkey(runtime, operator, passkey_id)
        return see_other(PASSKEYS_PATH)
