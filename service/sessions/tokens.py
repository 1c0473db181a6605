"""Session tokens: 256 random bits; the database only ever sees their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "idv_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    # A fast hash is right here: the token has 256 bits of entropy, so nothing is guessable
    # from the digest, and whoami must stay cheap.
    return hashlib.sha256(token.encode()).digest()


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX) and 40 <= len(value) <= 64
