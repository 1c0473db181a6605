"""AES-256-GCM encryption of one owner's values under that owner's data key."""

from __future__ import annotations

import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.vault.labels import SealedField

_VERSION = b"\x01"
_NONCE_BYTES = 12


class CiphertextInvalid(ValueError):
    """The value was not sealed by this owner's key for this field, or was altered."""


class OwnerCipher:
    """Seals and opens values of one owner. The field name is authenticated with each value,
    so a ciphertext moved to another column or another owner fails to open."""

    __slots__ = ("_aead", "owner_id")

    def __init__(self, owner_id: UUID, data_key: bytes) -> None:
        self.owner_id = owner_id
        self._aead = AESGCM(data_key)

    def _context(self, field: SealedField) -> bytes:
        return b"idv.value.v1|" + self.owner_id.bytes + b"|" + field.encode()

    def seal(self, field: SealedField, plaintext: bytes | str) -> bytes:
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, data, self._context(field))

    def open(self, field: SealedField, sealed: bytes) -> bytes:
        if sealed[:1] != _VERSION:
            raise CiphertextInvalid(f"unknown ciphertext version in {field}")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, self._context(field))
        except InvalidTag:
            raise CiphertextInvalid(f"{field} does not open with this owner's key") from None

    def seal_text(self, field: SealedField, plaintext: str) -> bytes:
        return self.seal(field, plaintext)

    def open_text(self, field: SealedField, sealed: bytes) -> str:
        return self.open(field, sealed).decode()

    def open_optional(self, field: SealedField, sealed: bytes | None) -> str | None:
        return None if sealed is None else self.open(field, sealed).decode()
