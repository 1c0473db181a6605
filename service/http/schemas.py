"""Building blocks for request and response bodies."""

from __future__ import annotations

import msgspec

# No C0 control characters (tab, LF and CR included) and no DEL: names, codes, identifiers.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
# What a person writes (statements, notes): lines allowed, every other control character refused
# (a NUL cannot even be stored as PostgreSQL text).
FREE_TEXT = r"^[^\x00-\x09\x0b-\x1f\x7f]*$"


class RequestBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are refused, and documented as such."""


def strict_struct_names() -> set[str]:
    """Names of every RequestBody subclass, for ``additionalProperties: false`` in OpenAPI."""
    names: set[str] = set()
    pending: list[type[msgspec.Struct]] = [RequestBody]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            names.add(sub.__name__)
            pending.append(sub)
    return names
