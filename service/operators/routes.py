"""HTTP for operators: enrolment, sign-in (password and TOTP, or a passkey) and sign-out, their own
passkeys, and (for admins) managing operators."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from service.audit import Actor
from service.http.clients import client_address, user_agent
from service.http.dependencies import CurrentRuntime
from service.http.rate_limits import RateLimitGroup
from service.operators.auth import OperatorPrincipal, allow, operator_guard
from service.operators.enrolment import approve_operator, begin_enrolment, confirm_enrolment, request_operator
from service.operators.passkeys import (
    OperatorPasskeyView,
    enrol,
    enrolment_options,
    list_passkeys,
    remove_passkey,
    sign_in_options,
    sign_in_with_passkey,
)
from service.operators.roles import ADMINS, ANY_ROLE
from service.operators.roster import disable_operator, list_operators
from service.operators.schemas import (
    EnrolmentConfirmation,
    EnrolmentFactor,
    EnrolmentRequest,
    NewOperatorRequest,
    OperatorMe,
    OperatorSessionGrant,
    OperatorSignInRequest,
    OperatorSummary,
    PendingOperator,
)
from service.operators.sign_in import (
    NewOperatorSession,
    OperatorSignIn,
    confirm_operator_password,
    sign_in_operator,
    sign_out_operator,
)
from service.passkeys.schemas import (
    Enrolment,
    EnrolmentOptionsRequest,
    PasskeyInfo,
    PasskeyRemoval,
    PasskeySignIn,
    SignInOptions,
)

CurrentOperator = NamedDependency[OperatorPrincipal]


def _anonymous(request: Request[Any, Any, Any]) -> Actor:
    return Actor.anonymous(client_address(request), user_agent(request))


def _grant(runtime: CurrentRuntime, session: NewOperatorSession) -> OperatorSessionGrant:
    idle = int(runtime.settings.operator_session_idle_timeout.total_seconds())
    return OperatorSessionGrant(session.session_id, session.token, session.expires_at, idle, session.restricted)


def _info(view: OperatorPasskeyView) -> PasskeyInfo:
    return PasskeyInfo(view.id, view.name, view.created_at, view.last_used_at, view.backup_eligible, view.backed_up)


class OperatorEnrolmentController(Controller):
    path = "/v1/operator/enrolment"
    tags = ["operators"]

    @post(
        "/",
        status_code=200,
        summary="Enrol: choose a password, get the TOTP secret",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def begin(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[EnrolmentRequest]
    ) -> EnrolmentFactor:
        return await begin_enrolment(runtime, data.enrolment_code, data.password, _anonymous(request))

    @post(
        "/confirm",
        status_code=204,
        summary="Finish enrolment with a TOTP code",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def confirm(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[EnrolmentConfirmation]
    ) -> None:
        await confirm_enrolment(runtime, data.enrolment_code, data.totp_code, _anonymous(request))


class OperatorSignInController(Controller):
    path = "/v1/operator/sessions"
    tags = ["operators"]

    @post(
        "/", status_code=201, summary="Operator sign-in (password and TOTP)", opt={"rate_limit": RateLimitGroup.SIGN_IN}
    )
    async def create(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[OperatorSignInRequest]
    ) -> OperatorSessionGrant:
        session = await sign_in_operator(
            runtime,
            OperatorSignIn(data.email, data.password, data.totp_code, client_address(request), user_agent(request)),
        )
        return _grant(runtime, session)

    @post(
        "/passkey/options",
        status_code=200,
        summary="Request options for an operator's passkey sign-in (discoverable passkeys), and their flow",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def passkey_options(self, runtime: CurrentRuntime) -> SignInOptions:
        flow = await sign_in_options(runtime)
        return SignInOptions(flow.flow_id, flow.options)

    @post(
        "/passkey",
        status_code=201,
        summary="Operator sign-in with a passkey (user verification required)",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def passkey(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[PasskeySignIn]
    ) -> OperatorSessionGrant:
        session = await sign_in_with_passkey(
            runtime, data.flow_id, data.credential.as_json(), client_address(request), user_agent(request)
        )
        return _grant(runtime, session)


class OperatorSelfController(Controller):
    path = "/v1/operator"
    tags = ["operators"]
    guards = [operator_guard]

    @get("/me", summary="The signed-in operator", opt=allow(ANY_ROLE, while_enrolling_passkey=True))
    async def me(self, operator: CurrentOperator) -> OperatorMe:
        return OperatorMe(
            operator.operator_id,
            sorted(operator.roles),
            operator.expires_at,
            operator.signed_in_with.value,
            operator.restricted,
        )

    @delete(
        "/sessions/current",
        status_code=204,
        summary="Operator sign-out",
        opt=allow(ANY_ROLE, while_enrolling_passkey=True),
    )
    async def sign_out(self, runtime: CurrentRuntime, operator: CurrentOperator) -> None:
        await sign_out_operator(runtime, operator)


class OperatorPasskeyController(Controller):
    path = "/v1/operator/passkeys"
    tags = ["operators"]
    guards = [operator_guard]

    @post(
        "/options",
        status_code=200,
        summary="PublicKeyCredentialCreationOptions for a new operator passkey, after re-entering the password",
        opt={**allow(ANY_ROLE, while_enrolling_passkey=True), "rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def options(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        data: JSONBody[EnrolmentOptionsRequest],
    ) -> dict[str, Any]:
        await confirm_operator_password(runtime, operator.operator_id, data.password, client_address(request))
        return await enrolment_options(runtime, operator)

    @post(
        "/",
        status_code=201,
        summary="Enrol an operator passkey: the browser's answer to the creation options",
        opt=allow(ANY_ROLE, while_enrolling_passkey=True),
    )
    async def enrol(self, runtime: CurrentRuntime, operator: CurrentOperator, data: JSONBody[Enrolment]) -> PasskeyInfo:
        return _info(await enrol(runtime, operator, data.name, data.credential.as_json()))

    @get("/", summary="The operator's own passkeys", opt=allow(ANY_ROLE, while_enrolling_passkey=True))
    async def list_own(self, runtime: CurrentRuntime, operator: CurrentOperator) -> list[PasskeyInfo]:
        return [_info(view) for view in await list_passkeys(runtime, operator)]

    @delete(
        "/{passkey_id:uuid}",
        status_code=204,
        summary="Remove one of the operator's own passkeys, after re-entering the password",
        opt={**allow(ANY_ROLE), "rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def remove(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        passkey_id: FromPath[UUID],
        data: JSONBody[PasskeyRemoval],
    ) -> None:
        await confirm_operator_password(runtime, operator.operator_id, data.password, client_address(request))
        await remove_passkey(runtime, operator, passkey_id)


class OperatorAdminController(Controller):
    path = "/v1/operator/operators"
    tags = ["operators"]
    guards = [operator_guard]

    @get("/", summary="All operators", opt=allow(ADMINS))
    async def list_all(self, runtime: CurrentRuntime, operator: CurrentOperator) -> list[OperatorSummary]:
        return [listed.summary for listed in await list_operators(runtime)]

    @post("/", status_code=201, summary="Create an operator; another admin must approve it", opt=allow(ADMINS))
    async def create(
        self, runtime: CurrentRuntime, operator: CurrentOperator, data: JSONBody[NewOperatorRequest]
    ) -> PendingOperator:
        operator_id = await request_operator(runtime, data.email, data.roles, operator.actor)
        return PendingOperator(operator_id, approved=False)

    @post(
        "/{operator_id:uuid}/approve",
        status_code=200,
        summary="Approve an operator another admin created; their enrolment code is e-mailed to them",
        opt=allow(ADMINS),
    )
    async def approve(
        self, runtime: CurrentRuntime, operator: CurrentOperator, operator_id: FromPath[UUID]
    ) -> PendingOperator:
        expires_at = await approve_operator(runtime, operator_id, operator.actor)
        return PendingOperator(operator_id, approved=True, enrolment_expires_at=expires_at)

    @post(
        "/{operator_id:uuid}/disable",
        status_code=204,
        summary="Disable an operator and end their sessions",
        opt=allow(ADMINS),
    )
    async def disable(self, runtime: CurrentRuntime, operator: CurrentOperator, operator_id: FromPath[UUID]) -> None:
        await disable_operator(runtime, operator_id, operator.actor, own_id=operator.operator_id)
