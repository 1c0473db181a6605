"""Policy documents kept in the repository, loaded once at start-up.

A document is ``documents/<kind>@<version>.md`` with a small header (title, effective_at,
major). The current version of a kind is the newest one already in effect.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from datetime import UTC, date, datetime
from enum import StrEnum

import msgspec


class PolicyKind(StrEnum):
    TERMS_OF_SERVICE = "terms_of_service"
    PRIVACY_POLICY = "privacy_policy"


class PolicyDocument(msgspec.Struct, frozen=True):
    kind: PolicyKind
    version: str
    title: str
    effective_at: date
    major: bool
    sha256: str
    content: str


def _parse(name: str, text: str) -> PolicyDocument:
    stem = name.removesuffix(".md")
    kind, _, version = stem.partition("@")
    if not text.startswith("---\n"):
        raise ValueError(f"{name}: missing header")
    header, _, content = text[4:].partition("\n---\n")
    fields = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    return PolicyDocument(
        kind=PolicyKind(kind),
        version=version,
        title=fields["title"],
        effective_at=date.fromisoformat(fields["effective_at"]),
        major=fields.get("major", "false").lower() == "true",
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        content=content.lstrip("\n"),
    )


class PolicyCatalog:
    def __init__(self, documents: list[PolicyDocument]) -> None:
        self.documents = sorted(documents, key=lambda d: (d.kind, d.effective_at, d.version))

    @classmethod
    def load(cls) -> PolicyCatalog:
        folder = importlib.resources.files("service.policies") / "documents"
        return cls(
            [_parse(entry.name, entry.read_text("utf-8")) for entry in folder.iterdir() if entry.name.endswith(".md")]
        )

    def current(self, kind: PolicyKind, today: date | None = None) -> PolicyDocument:
        day = today or datetime.now(UTC).date()
        in_effect = [d for d in self.documents if d.kind is kind and d.effective_at <= day]
        if not in_effect:
            raise LookupError(f"no {kind} is in effect")
        return in_effect[-1]

    def all_current(self) -> list[PolicyDocument]:
        return [self.current(kind) for kind in PolicyKind]

    def find(self, kind: PolicyKind, version: str) -> PolicyDocument | None:
        return next((d for d in self.documents if d.kind is kind and d.version == version), None)
