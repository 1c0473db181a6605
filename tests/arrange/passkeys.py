"""A software authenticator for API-level passkey tests: an ES256 key, an attestation of format
``none`` and assertions signed as a platform authenticator signs them, with a counter a test can
set (to replay, or to go backwards). The browser tests use Chromium's virtual authenticator."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers import STRONG_PASSWORD, bearer

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    origin: str
    rp_id: str = "localhost"
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    user_handle: bytes = b""
    sign_count: int = 0
    user_verified: bool = True

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.user_verified else 0) | BE | BS | extra

    def _client_data(self, kind: str, challenge: str) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        return json.dumps(data).encode()

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """navigator.credentials.create: the credential for these creation options."""
        self.user_handle = unb64url(options["user"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([self._flags(AT)])
            + struct.pack(">I", self.sign_count)
            + attested
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"])),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        }

    def get(self, options: dict[str, Any], *, count: int | None = None) -> dict[str, Any]:
        """navigator.credentials.get: an assertion for these request options (the counter advances
        unless ``count`` is given)."""
        if count is None:
            self.sign_count += 1
            count = self.sign_count
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([self._flags()]) + struct.pack(">I", count)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
        }


async def enrol_passkey(
    client: httpx.AsyncClient, token: str | dict[str, str], authenticator: SoftAuthenticator, name: str = "My phone"
) -> dict[str, Any]:
    """Enrol a passkey for the person of ``token`` (a session token, or its authorization header)."""
    headers = bearer(token) if isinstance(token, str) else token
    options = await client.post("/v1/me/passkeys/options", json={"password": STRONG_PASSWORD}, headers=headers)
    assert options.status_code == 200, options.text
    enrolled = await client.post(
        "/v1/me/passkeys", json={"name": name, "credential": authenticator.create(options.json())}, headers=headers
    )
    assert enrolled.status_code == 201, enrolled.text
    body: dict[str, Any] = enrolled.json()
    return body


async def passkey_options(client: httpx.AsyncClient, identifier: str | None = None) -> dict[str, Any]:
    response = await client.post(
        "/v1/sessions/passkey/options", json={} if identifier is None else {"identifier": identifier}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def enrol_operator_passkey(
    client: httpx.AsyncClient, headers: dict[str, str], authenticator: SoftAuthenticator, name: str = "Work key"
) -> dict[str, Any]:
    """Enrol a passkey for the operator whose session ``headers`` carry (their password is STRONG_PASSWORD)."""
    options = await client.post("/v1/operator/passkeys/options", json={"password": STRONG_PASSWORD}, headers=headers)
    assert options.status_code == 200, options.text
    enrolled = await client.post(
        "/v1/operator/passkeys",
        json={"name": name, "credential": authenticator.create(options.json())},
        headers=headers,
    )
    assert enrolled.status_code == 201, enrolled.text
    body: dict[str, Any] = enrolled.json()
    return body


async def operator_passkey_flow(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/v1/operator/sessions/passkey/options")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def operator_passkey_sign_in(
    client: httpx.AsyncClient, flow: dict[str, Any], credential: dict[str, Any]
) -> httpx.Response:
    """An operator's passkey sign-in answering ``flow``; the response, unchecked."""
    return await client.post(
        "/v1/operator/sessions/passkey", json={"flow_id": flow["flow_id"], "credential": credential}
    )


async def operator_passkey_headers(client: httpx.AsyncClient, authenticator: SoftAuthenticator) -> dict[str, str]:
    """Sign the authenticator's operator in with their passkey: the session's authorization header."""
    flow = await operator_passkey_flow(client)
    response = await operator_passkey_sign_in(client, flow, authenticator.get(flow["options"]))
    assert response.status_code == 201, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}
