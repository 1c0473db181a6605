"""Normalization shared by names and identifiers."""

from __future__ import annotations

import unicodedata

from verification.errors import InvalidValue

# Control (Cc), format (Cf: zero-width joiners, bidi overrides), surrogates, private use, unassigned.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def clean_text(value: str, *, max_length: int, min_length: int = 1, label: str = "value") -> str:
    """NFC-normalize, trim and collapse inner whitespace; refuse invisible or control characters."""
    normalized = " ".join(unicodedata.normalize("NFC", value).split())
    for char in normalized:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidValue("invalid_characters", f"{label} contains invisible or control characters")
    if len(normalized) < min_length:
        raise InvalidValue("too_short", f"{label} must have at least {min_length} characters")
    if len(normalized) > max_length:
        raise InvalidValue("too_long", f"{label} must have at most {max_length} characters")
    return normalized
