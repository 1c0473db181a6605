"""The boundary's shapes for session tokens and the published key set."""

from __future__ import annotations

from datetime import datetime

import msgspec


class SessionToken(msgspec.Struct):
    # A JWT (RFC 7519) signed with EdDSA (Ed25519); verify it with the key of its `kid` from
    # /.well-known/jwks.json, with `EdDSA` as the only algorithm accepted.
    token: str
    token_type: str
    expires_at: datetime
    # Seconds from now.
    expires_in: int


class JsonWebKey(msgspec.Struct):
    """An Ed25519 public key as an OKP JWK (RFC 8037)."""

    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class KeySet(msgspec.Struct):
    keys: list[JsonWebKey]
