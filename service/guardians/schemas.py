"""Request and response bodies of guardianship."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

import msgspec

from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody


class Relationship(StrEnum):
    PARENT = "parent"
    LEGAL_GUARDIAN = "legal_guardian"


class Scope(StrEnum):
    """What the guardian consents to for the minor: the account itself (always), and optionally
    the processing of identity data and of biometric data."""

    ACCOUNT = "account"
    IDENTITY_DATA = "identity_data"
    BIOMETRIC = "biometric"


class GuardianInvitationRequest(RequestBody):
    """The guardian's e-mail or mobile number (one of them)."""

    email: Annotated[str, msgspec.Meta(max_length=254, pattern=NO_CONTROL_CHARACTERS)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=32, pattern=NO_CONTROL_CHARACTERS)] | None = None


class InvitationSent(msgspec.Struct):
    sent_to: str
    expires_at: datetime


class GuardianConsentRequest(RequestBody):
    invitation_code: Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    relationship: Relationship
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=3)]


class GuardianshipView(msgspec.Struct):
    """``pending_review`` (an operator confirms the relationship, for a child), ``active``,
    ``refused``, ``revoked``, ``ended``."""

    guardianship_id: UUID
    minor_account_id: UUID
    guardian_account_id: UUID
    relationship: Relationship
    scopes: list[Scope]
    state: str
    case_id: UUID | None
    created_at: datetime
