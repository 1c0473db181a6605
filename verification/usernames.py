"""Usernames: public handles, unambiguous as sign-in identifiers."""

from __future__ import annotations

import re

from verification.errors import InvalidValue

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,31}$")


def normalize_username(value: str) -> str:
    """Case is kept for display; look-ups use ``username_key``."""
    username = value.strip()
    if not _USERNAME.match(username):
        raise InvalidValue(
            "invalid_username",
            "username: 3 to 32 characters, starting with a letter; letters, digits, '_', '.', '-'",
        )
    if username.endswith((".", "-")) or ".." in username:
        raise InvalidValue("invalid_username", "username cannot end with '.' or '-' or repeat '.'")
    return username


def username_key(username: str) -> str:
    return username.casefold()
