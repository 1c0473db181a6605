"""What an audit entry says. Targets are pseudonymous ids; details hold codes, never personal data."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec

DetailValue = str | int | bool | None


class ActorKind(StrEnum):
    USER = "user"
    OPERATOR = "operator"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    """Who acted, and from where (the client address and user agent are sealed when stored)."""

    kind: ActorKind
    id: str
    client_address: str | None = None
    user_agent: str | None = None

    @classmethod
    def user(cls, account_id: UUID, client_address: str | None = None, user_agent: str | None = None) -> Actor:
        return cls(ActorKind.USER, str(account_id), client_address, user_agent)

    @classmethod
    def operator(cls, operator_id: UUID, client_address: str | None = None, user_agent: str | None = None) -> Actor:
        return cls(ActorKind.OPERATOR, str(operator_id), client_address, user_agent)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(ActorKind.SYSTEM, name)

    @classmethod
    def anonymous(cls, client_address: str | None = None, user_agent: str | None = None) -> Actor:
        return cls(ActorKind.ANONYMOUS, "", client_address, user_agent)

    @property
    def label(self) -> str:
        """``kind:id``, as state changes and staged decisions record who acted."""
        return f"{self.kind.value}:{self.id}"

    @property
    def has_origin(self) -> bool:
        return self.client_address is not None or self.user_agent is not None


@dataclass(frozen=True)
class AuditEntry:
    actor: Actor
    action: str
    target_type: str = ""
    target_id: str = ""
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    before_hash: bytes | None = None
    after_hash: bytes | None = None


_canonical = msgspec.json.Encoder(order="sorted")


def canonical_json(value: Any) -> str:
    return _canonical.encode(value).decode()


def record_digest(record: Any) -> bytes:
    """SHA-256 of a record's canonical JSON: the before/after hashes of a change."""
    return hashlib.sha256(_canonical.encode(record)).digest()
