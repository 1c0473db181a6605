"""Request and response bodies of sign-in and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from service.accounts.schemas import Password
from service.accounts.states import AccountState
from service.face.schemas import FaceVerifiedBy
from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody


class SignInRequest(RequestBody):
    identifier: Annotated[str, msgspec.Meta(min_length=1, max_length=320, pattern=NO_CONTROL_CHARACTERS)]
    password: Password
    totp_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None
    recovery_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=NO_CONTROL_CHARACTERS)] | None = (
        None
    )


class PasswordChange(RequestBody):
    current_password: Password
    new_password: Password


Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=320, pattern=NO_CONTROL_CHARACTERS)]


class RecoveryRequest(RequestBody):
    identifier: Identifier


class RecoveryRequested(msgspec.Struct):
    """The same whether or not the identifier names an account."""

    message: str


class AssistedRecoveryRequestBody(RequestBody):
    """Who one says one is: checked against the account's verified real name, never stored."""

    identifier: Identifier
    legal_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)]
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NO_CONTROL_CHARACTERS)]


class FaceStepRequest(RequestBody):
    """The recovery request's id and the face key sent with it to the account's verified contacts."""

    case_id: UUID
    key: Annotated[str, msgspec.Meta(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class RecoveryCompletion(RequestBody):
    identifier: Identifier
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]
    new_password: Password
    totp_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None
    recovery_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=NO_CONTROL_CHARACTERS)] | None = (
        None
    )


class Assurance(msgspec.Struct):
    level: int
    email_verified: bool
    phone_verified: bool
    second_factor_enrolled: bool
    real_name_verified: bool
    qualified: bool
    face_verified: bool
    document_reviewed: bool
    # How the face was verified (None when it is not, or not vouched for): relying apps choose by it.
    face_verification: FaceVerifiedBy | None = None


class WhoAmI(msgspec.Struct):
    account_id: UUID
    session_id: UUID
    state: AccountState
    assurance: Assurance
    roles: list[str]
    expires_at: datetime
    # A required policy changed in a major way: everything but accepting it, reading one's data
    # and signing out answers 403 consent_required until it is accepted (GET /v1/me/consents).
    consent_required: bool


class SessionInfo(msgspec.Struct):
    session_id: UUID
    current: bool
    assurance_level: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_address: str | None
    user_agent: str | None
