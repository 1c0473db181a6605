"""Keyed blind indexes: equality look-ups (sign-in, uniqueness) without storing plaintext."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.vault.labels import IndexPurpose


class _Key:
    def __init__(self, root_key: bytes) -> None:
        self._root_key = root_key
        self._subkeys: dict[IndexPurpose, bytes] = {}

    def digest(self, purpose: IndexPurpose, normalized_value: str) -> bytes:
        key = self._subkeys.get(purpose)
        if key is None:
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"idv.blind-index|" + purpose.encode()
            ).derive(self._root_key)
            self._subkeys[purpose] = key
        return hmac.new(key, normalized_value.encode(), hashlib.sha256).digest()


class BlindIndex:
    """HMAC-SHA256 of a normalized value, under a sub-key per purpose.

    Separate sub-keys keep an email's index from matching the same string used as a username,
    and the key lives outside the database, so a stolen dump cannot be brute-forced offline.

    During a rotation (``previous`` set) new indexes are made under the current key and look-ups
    try the current key, then the previous one, until `vault.reindex` has re-made every stored index
    under the current key (service/vault/reindex.py) and the previous key is dropped.
    """

    def __init__(self, root_key: bytes, previous: bytes | None = None) -> None:
        self._current = _Key(root_key)
        self._previous = None if previous is None else _Key(previous)

    @property
    def rotating(self) -> bool:
        return self._previous is not None

    def digest(self, purpose: IndexPurpose, normalized_value: str) -> bytes:
        return self._current.digest(purpose, normalized_value)

    def previous_digest(self, purpose: IndexPurpose, normalized_value: str) -> bytes | None:
        return None if self._previous is None else self._previous.digest(purpose, normalized_value)

    def digests(self, purpose: IndexPurpose, normalized_value: str) -> list[bytes]:
        """Every index the value may be stored under: the current key's first."""
        keys = [self._current] if self._previous is None else [self._current, self._previous]
        return [key.digest(purpose, normalized_value) for key in keys]

    def matches(self, purpose: IndexPurpose, normalized_value: str, expected: bytes) -> bool:
        found = False
        for candidate in self.digests(purpose, normalized_value):
            found |= hmac.compare_digest(candidate, expected)
        return found

    def fingerprint(self) -> bytes:
        """Names the current key in the database without revealing it."""
        return self._current.digest(IndexPurpose.KEY_FINGERPRINT, "idv.blind-index.key")
