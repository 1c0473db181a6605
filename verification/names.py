"""Display names: what people call themselves, in any script."""

from __future__ import annotations

import unicodedata

from verification.errors import InvalidValue
from verification.text import clean_text

MAX_DISPLAY_NAME = 64


def normalize_display_name(value: str) -> str:
    name = clean_text(value, max_length=MAX_DISPLAY_NAME, label="display name")
    if not any(unicodedata.category(c).startswith(("L", "N")) for c in name):
        raise InvalidValue("no_letters", "display name must contain letters")
    return name
