"""Master keys from the environment wrap each owner's data key (envelope encryption)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.settings import MasterKey

_NONCE_BYTES = 12


class UnknownMasterKey(KeyError):
    """A data key was wrapped by a master key that is no longer in the ring."""


class MasterKeyRing:
    """Several master keys by id: the active one wraps new data keys, any of them unwraps."""

    def __init__(self, keys: Sequence[MasterKey], active_key_id: str) -> None:
        self._keys = {key.key_id: AESGCM(key.secret) for key in keys}
        if active_key_id not in self._keys:
            raise ValueError(f"active master key {active_key_id!r} is not in the ring")
        self.active_key_id = active_key_id

    @staticmethod
    def _context(owner_id: UUID, key_id: str) -> bytes:
        # Binding the owner and key id means a wrapped key copied to another row will not open.
        return b"idv.data-key.v1|" + owner_id.bytes + b"|" + key_id.encode()

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def wrap(self, owner_id: UUID, data_key: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(_NONCE_BYTES)
        key_id = self.active_key_id
        sealed = self._keys[key_id].encrypt(nonce, data_key, self._context(owner_id, key_id))
        return key_id, nonce + sealed

    def unwrap(self, owner_id: UUID, key_id: str, wrapped: bytes) -> bytes:
        try:
            master = self._keys[key_id]
        except KeyError:
            raise UnknownMasterKey(key_id) from None
        return master.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], self._context(owner_id, key_id))
