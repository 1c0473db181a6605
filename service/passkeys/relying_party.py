"""The WebAuthn relying party idv is, from the settings, and reading what a browser sent.

Everything the ``webauthn`` package may raise on a malformed or wrong credential becomes one domain
error, so bad input is a 4xx and never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from webauthn.helpers import parse_client_data_json
from webauthn.helpers.base64url_to_bytes import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException

from service.errors import DomainError, Invalid

# How long a ceremony's challenge lives; the browser's own timeout is the same.
CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = int(CHALLENGE_LIFETIME.total_seconds() * 1000)

_UNREADABLE = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)


def credential_invalid() -> Invalid:
    return Invalid("passkey_credential_invalid", "The passkey's answer cannot be read")


@contextmanager
def reading_credential(error: Callable[[], DomainError] = credential_invalid) -> Iterator[None]:
    try:
        yield
    except _UNREADABLE as unreadable:
        raise error() from unreadable


def sent_challenge(credential: dict[str, Any]) -> bytes:
    """The challenge the browser signed (from clientDataJSON), to find the ceremony it answers."""
    with reading_credential():
        return parse_client_data_json(base64url_to_bytes(credential["response"]["clientDataJSON"])).challenge


def credential_id(credential: dict[str, Any]) -> bytes:
    with reading_credential():
        raw = base64url_to_bytes(credential["rawId"])
    if not 1 <= len(raw) <= 1023:
        raise credential_invalid()
    return raw
