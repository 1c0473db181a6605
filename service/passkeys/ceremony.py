"""The WebAuthn ceremonies without storage: options to send, and checking what the browser answered.

This is the interface other capabilities use for passkeys of their own (operators keep theirs in
their own tables): each caller stores its credentials and challenges, consumes a challenge before
checking the answer, and decides what the checked answer means. Nothing here touches the database.
User verification is always required."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.base64url_to_bytes import base64url_to_bytes
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from service.errors import DomainError
from service.passkeys.relying_party import (
    CHALLENGE_LIFETIME,
    TIMEOUT_MS,
    credential_id,
    credential_invalid,
    reading_credential,
    sent_challenge,
)
from service.settings import Settings

__all__ = [
    "CHALLENGE_LIFETIME",
    "Assertion",
    "Registered",
    "ResidentKeyRequirement",
    "check_assertion",
    "check_registration",
    "creation_options",
    "credential_id",
    "new_challenge",
    "request_options",
    "sent_challenge",
]


@dataclass(frozen=True)
class Registered:
    """A new credential, checked: what to store."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backed_up: bool


@dataclass(frozen=True)
class Assertion:
    """A sign-in answer whose signature checked out; the caller still compares the counter."""

    sign_count: int
    backed_up: bool


def new_challenge() -> bytes:
    return secrets.token_bytes(32)


def _as_json(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def creation_options(
    settings: Settings,
    *,
    challenge: bytes,
    user_id: bytes,
    user_name: str,
    display_name: str,
    exclude: Sequence[bytes],
    resident_key: ResidentKeyRequirement = ResidentKeyRequirement.PREFERRED,
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions as JSON (attestation none, user verification required)."""
    options = generate_registration_options(
        rp_id=settings.webauthn_rp_id,
        rp_name=settings.webauthn_rp_name,
        user_id=user_id,
        user_name=user_name,
        user_display_name=display_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=resident_key,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=raw) for raw in exclude],
    )
    return _as_json(options_to_json(options))


def check_registration(settings: Settings, credential: dict[str, Any], challenge: bytes) -> Registered:
    """The browser's answer to creation options with this (already consumed) challenge."""
    with reading_credential():
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=list(settings.webauthn_origins),
            require_user_presence=True,
            require_user_verification=True,
        )
    return Registered(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type is CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
    )


def request_options(settings: Settings, challenge: bytes, allowed: Sequence[bytes]) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions as JSON; no allowed ids: discoverable credentials."""
    options = generate_authentication_options(
        rp_id=settings.webauthn_rp_id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=raw) for raw in allowed],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _as_json(options_to_json(options))


def check_assertion(
    settings: Settings,
    credential: dict[str, Any],
    *,
    challenge: bytes,
    public_key: bytes,
    user_handle: bytes,
    refused: Callable[[], DomainError] = credential_invalid,
) -> Assertion:
    """A sign-in answer for this (already consumed) challenge, signed by ``public_key``; a
    discoverable credential's user handle must be ``user_handle``. Anything wrong raises ``refused()``.
    The counter is not compared here: the caller compares it atomically with the stored one, and
    notices when it went backwards."""
    with reading_credential(refused):
        sent_handle = credential.get("response", {}).get("userHandle")
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=list(settings.webauthn_origins),
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
        if sent_handle is not None and base64url_to_bytes(sent_handle) != user_handle:
            raise refused()
    return Assertion(verified.new_sign_count, verified.credential_backed_up)
