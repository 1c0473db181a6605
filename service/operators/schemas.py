"""Request and response bodies of the operator API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from service.accounts.schemas import Email, Password
from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody
from service.operators.roles import Role

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_CONTROL_CHARACTERS)]
TotpCode = Annotated[str, msgspec.Meta(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]


class OperatorSignInRequest(RequestBody):
    email: Email
    password: Password
    totp_code: TotpCode


class OperatorSessionGrant(msgspec.Struct):
    session_id: UUID
    token: str
    expires_at: datetime
    idle_timeout_seconds: int
    # Passkeys are required (IDV_OPERATOR_REQUIRE_PASSKEY) and this session signed in without one:
    # it may only enrol the operator's first passkey (`/v1/operator/passkeys`), then sign in with it.
    restricted: bool = False


class EnrolmentRequest(RequestBody):
    enrolment_code: Code
    password: Password


class EnrolmentFactor(msgspec.Struct):
    """Add this secret to an authenticator app, then confirm with a code from it."""

    totp_secret: str
    otpauth_uri: str


class EnrolmentConfirmation(RequestBody):
    enrolment_code: Code
    totp_code: TotpCode


class OperatorMe(msgspec.Struct):
    operator_id: UUID
    roles: list[Role]
    session_expires_at: datetime
    # `password_totp` or `passkey`; restricted as in OperatorSessionGrant.
    signed_in_with: str = "password_totp"
    restricted: bool = False


class NewOperatorRequest(RequestBody):
    email: Email
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=4)]


class NewOperator(msgspec.Struct):
    """What `idv operators create` prints; the API never returns a code."""

    operator_id: UUID
    enrolment_code: str
    enrolment_expires_at: datetime


class PendingOperator(msgspec.Struct):
    operator_id: UUID
    approved: bool
    enrolment_expires_at: datetime | None = None


class OperatorSummary(msgspec.Struct):
    operator_id: UUID
    email: str
    roles: list[Role]
    approved: bool
    enrolled: bool
    disabled: bool
    created_at: datetime
