"""Biometric data is sealed under its own key per face verification, apart from the person's
identity data, so that withdrawing the biometric consent destroys it (in every backup too)
without touching the rest, and a later consent starts with fresh keys."""

from __future__ import annotations

import uuid
from uuid import UUID

_BIOMETRIC_KEYS = uuid.UUID("6d1c0f3e-6f7a-4d8b-9b52-0c3f1f6c9a11")


def biometric_key_owner(verification_id: UUID) -> UUID:
    return uuid.uuid5(_BIOMETRIC_KEYS, str(verification_id))
