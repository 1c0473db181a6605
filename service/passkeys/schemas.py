"""Request and response bodies of the passkey routes.

A credential is what the browser's ``PublicKeyCredential.toJSON()`` gives, checked for shape and
size here; what else a browser adds is ignored, and the ceremony checks the rest."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from service.accounts.schemas import Password
from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody
from service.sessions.schemas import Identifier

Base64Url = Annotated[str, msgspec.Meta(min_length=1, max_length=16384, pattern=r"^[A-Za-z0-9_-]+={0,2}$")]
PasskeyName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_CONTROL_CHARACTERS)]


class AuthenticatorAnswer(msgspec.Struct, omit_defaults=True):
    client_data_json: Base64Url = msgspec.field(name="clientDataJSON")
    # Enrolment.
    attestation_object: Base64Url | None = msgspec.field(default=None, name="attestationObject")
    transports: Annotated[list[Annotated[str, msgspec.Meta(max_length=32)]], msgspec.Meta(max_length=8)] | None = None
    # Sign-in.
    authenticator_data: Base64Url | None = msgspec.field(default=None, name="authenticatorData")
    signature: Base64Url | None = None
    user_handle: Base64Url | None = msgspec.field(default=None, name="userHandle")


class PasskeyCredential(msgspec.Struct, omit_defaults=True):
    id: Base64Url
    raw_id: Base64Url = msgspec.field(name="rawId")
    type: Literal["public-key"]
    response: AuthenticatorAnswer
    authenticator_attachment: Literal["platform", "cross-platform"] | None = msgspec.field(
        default=None, name="authenticatorAttachment"
    )

    def as_json(self) -> dict[str, Any]:
        built: dict[str, Any] = msgspec.to_builtins(self)
        built["clientExtensionResults"] = {}
        return built


class EnrolmentOptionsRequest(RequestBody):
    password: Password


class Enrolment(RequestBody):
    name: PasskeyName
    credential: PasskeyCredential


class PasskeyInfo(msgspec.Struct):
    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    # A synced (multi-device) passkey, and whether it is backed up now.
    backup_eligible: bool
    backed_up: bool


class PasskeyRemoval(RequestBody):
    password: Password


class SignInOptionsRequest(RequestBody):
    # Absent: the browser offers the passkeys it holds for this site (discoverable credentials).
    identifier: Identifier | None = None


class SignInOptions(msgspec.Struct):
    # Send it back with the assertion: the challenge is bound to this flow.
    flow_id: UUID
    # PublicKeyCredentialRequestOptions as JSON (PublicKeyCredential.parseRequestOptionsFromJSON).
    options: dict[str, Any]


class PasskeySignIn(RequestBody):
    flow_id: UUID
    credential: PasskeyCredential
