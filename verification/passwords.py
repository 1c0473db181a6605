"""Password rules per NIST SP 800-63B and OWASP ASVS 5: length, not composition.

A password is refused when it is too short or too long, when it is common or easy to guess
(zxcvbn's frequency lists and pattern matching), or when most of it is the user's own
identifiers (name, username, e-mail, phone, birth date) or the service's name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from zxcvbn import zxcvbn

from verification.errors import InvalidValue

MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn is quadratic in length and refuses more than 72 characters; a prefix that long is
# already far beyond guessing when the rest of the rules pass.
_ESTIMATE_PREFIX = 72
_MIN_SCORE = 2


def normalize_password(password: str) -> str:
    """NFKC, so the same password typed on different keyboards hashes the same (SP 800-63B)."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, personal: Iterable[str] = ()) -> str:
    """Return the normalized password, or raise InvalidValue saying why it is refused."""
    normalized = normalize_password(password)
    if len(normalized) < MIN_LENGTH:
        raise InvalidValue("password_too_short", f"password must have at least {MIN_LENGTH} characters")
    if len(normalized) > MAX_LENGTH:
        raise InvalidValue("password_too_long", f"password must have at most {MAX_LENGTH} characters")
    inputs = _personal_words(personal)
    estimate = zxcvbn(normalized[:_ESTIMATE_PREFIX], user_inputs=inputs)
    from_identifiers = sum(
        len(match["token"]) for match in estimate["sequence"] if match.get("dictionary_name") == "user_inputs"
    )
    if inputs and from_identifiers * 2 >= min(len(normalized), _ESTIMATE_PREFIX):
        raise InvalidValue(
            "password_contains_personal_info",
            "password is mostly your name, username, e-mail, phone or birth date",
        )
    if estimate["score"] < _MIN_SCORE:
        raise InvalidValue("password_too_common", "password is too common or too easy to guess")
    return normalized


def _personal_words(personal: Iterable[str]) -> list[str]:
    words: set[str] = {"idv"}
    for value in personal:
        if not value:
            continue
        lowered = value.casefold()
        words.add(lowered)
        local, _, _ = lowered.partition("@")
        words.add(local)
        digits = "".join(c for c in lowered if c.isdigit())
        if len(digits) >= 4:
            # Phone numbers are typed without their country code, and passwords end in their tails.
            words.update({digits, digits[-11:], digits[-10:], digits[-8:], digits[-4:]})
        words.update(part for part in lowered.replace("-", " ").replace(".", " ").split() if len(part) >= 3)
    return sorted(w for w in words if len(w) >= 3)
