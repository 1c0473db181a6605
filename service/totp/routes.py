"""HTTP for enrolling and removing the TOTP second factor."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, post
from litestar.params import JSONBody

from service.accounts.schemas import Password
from service.errors import Invalid
from service.http.clients import client_address
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.http.rate_limits import RateLimitGroup
from service.http.schemas import RequestBody
from service.sessions.reauthentication import confirm_password
from service.totp.management import confirm_totp, enroll_totp, remove_totp

SixDigits = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]


class TotpEnrollment(msgspec.Struct):
    secret: str
    otpauth_uri: str


class TotpEnrollmentRequest(RequestBody):
    password: Password


class TotpConfirmation(RequestBody):
    code: SixDigits


class RecoveryCodes(msgspec.Struct):
    recovery_codes: list[str]


class TotpRemoval(RequestBody):
    password: Password
    code: SixDigits | None = None
    recovery_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None


class TotpController(Controller):
    path = "/v1/me/totp"
    tags = ["second factor"]

    @post(
        "/",
        status_code=201,
        summary="Start TOTP enrolment after re-entering the password: a secret and an otpauth:// URI",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def enroll(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        data: JSONBody[TotpEnrollmentRequest],
    ) -> TotpEnrollment:
        await confirm_password(runtime, principal, data.password, client_address(request))
        enrollment = await enroll_totp(runtime, principal)
        return TotpEnrollment(enrollment.secret, enrollment.otpauth_uri)

    @post("/confirm", status_code=200, summary="Confirm with a first code; returns recovery codes once")
    async def confirm(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[TotpConfirmation],
    ) -> RecoveryCodes:
        return RecoveryCodes(await confirm_totp(runtime, principal, data.code, actor))

    @delete(
        "/",
        status_code=204,
        summary="Remove TOTP, after re-entering password and a code",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def remove(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[TotpRemoval],
    ) -> None:
        if not data.code and not data.recovery_code:
            raise Invalid("second_factor_required", "Give a TOTP code or a recovery code")
        await confirm_password(runtime, principal, data.password, client_address(request))
        await remove_totp(runtime, principal, data.code, data.recovery_code, actor)
