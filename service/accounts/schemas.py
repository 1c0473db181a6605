"""Request and response bodies of the accounts capability."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from service.accounts.states import AccountState
from service.face.schemas import FaceVerifiedBy
from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody
from service.i18n.languages import Language

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)]
Handle = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_CONTROL_CHARACTERS)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=NO_CONTROL_CHARACTERS)]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=NO_CONTROL_CHARACTERS)]
Version = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_CONTROL_CHARACTERS)]
# Any printable character may be in a password, spaces included; control characters may not.
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=NO_CONTROL_CHARACTERS)]


class RegistrationRequest(RequestBody):
    display_name: Name
    password: Password
    birth_date: date
    accepted_terms_version: Version
    accepted_privacy_version: Version
    email: Email | None = None
    phone: Phone | None = None
    username: Handle | None = None
    # The language of one's messages; without it, the request's Accept-Language, else IDV_DEFAULT_LANGUAGE.
    preferred_language: Language | None = None


class SessionGrant(msgspec.Struct):
    session_id: UUID
    token: str
    expires_at: datetime


class SessionCreated(msgspec.Struct):
    """What registration and sign-in both answer: whose session it is, and the session."""

    account_id: UUID
    state: AccountState
    session: SessionGrant


class RegistrationResponse(SessionCreated):
    codes_sent_to: list[str]


class Suspension(msgspec.Struct):
    """Why an account is suspended, and the way out."""

    reason_code: str
    message: str
    since: datetime
    case_id: UUID | None
    # None when there is no decision to appeal (a minor left without a guardian's consent).
    how_to_appeal: str | None
    next_step: str | None = None


class Restriction(msgspec.Struct):
    """Why an operator restricted the account. Verifying, appealing and one's data rights still work."""

    reason_code: str
    message: str
    since: datetime


class QualificationInForce(msgspec.Struct):
    qualification_id: UUID
    organization_name: str
    job_title: str
    valid_until: date


class Profile(msgspec.Struct):
    """The account as its owner sees it; contact details and birth date are masked."""

    account_id: UUID
    state: AccountState
    display_name: str
    username: str | None
    email: str | None
    email_verified: bool
    phone: str | None
    phone_verified: bool
    birth_date: str
    totp_enabled: bool
    created_at: datetime
    locked_fields: list[str]
    # The language of one's messages (`zh-CN` or `en`).
    preferred_language: Language = Language.ZH_CN
    suspension: Suspension | None = None
    restriction: Restriction | None = None
    qualifications: list[QualificationInForce] = msgspec.field(default_factory=list)
    # While a cancellation cools off: when the account will be erased unless kept.
    erasure_planned_at: datetime | None = None
    # How the face was verified, as whoami says (None when it is not, or while an operator doubts the account).
    face_verification: FaceVerifiedBy | None = None


class ProfileChanges(RequestBody):
    display_name: Name | None = None
    username: Handle | None = None
    preferred_language: Language | None = None
    # Accepted only to be refused with a clear reason: registration data is not rewritten.
    birth_date: date | None = None
