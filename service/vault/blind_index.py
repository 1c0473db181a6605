"""Keyed blind indexes: equality look-ups (sign-in, uniqueness) without storing plaintext."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class BlindIndex:
    """HMAC-SHA256 of a normalized value, under a sub-key per purpose.

    Separate sub-keys keep an email's index from matching the same string used as a username,
    and the key lives outside the database, so a stolen dump cannot be brute-forced offline.
    """

    def __init__(self, root_key: bytes) -> None:
        self._root_key = root_key
        self._subkeys: dict[str, bytes] = {}

    def _subkey(self, purpose: str) -> bytes:
        key = self._subkeys.get(purpose)
        if key is None:
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"idv.blind-index|" + purpose.encode()
            ).derive(self._root_key)
            self._subkeys[purpose] = key
        return key

    def digest(self, purpose: str, normalized_value: str) -> bytes:
        return hmac.new(self._subkey(purpose), normalized_value.encode(), hashlib.sha256).digest()

    def matches(self, purpose: str, normalized_value: str, expected: bytes) -> bool:
        return hmac.compare_digest(self.digest(purpose, normalized_value), expected)
