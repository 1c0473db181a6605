"""Password rules per NIST SP 800-63B and OWASP ASVS 5: length and blocklists, not composition.

A password is refused when it is shorter than 8 or longer than 128 characters, when it is a
common password or a dictionary word (give or take leetspeak and a few trailing digits or
symbols), when it is a repetition, a sequence or a keyboard run, or when half of it or more is
the user's own identifiers (name, username, e-mail, phone, birth date) or the service's name.

The lists are zxcvbn's frequency lists (30,000 common passwords from breach corpuses, and English,
film and name dictionaries). zxcvbn's full estimator is not used on the request path: it costs
5-6 ms of CPU per call, a sixth of an argon2id hash, for little beyond these checks.
"""

from __future__ import annotations

import itertools
import string
import unicodedata
from collections.abc import Iterable

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from verification.errors import InvalidValue

MIN_LENGTH = 8
MAX_LENGTH = 128

_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
_DICTIONARY_WORDS = frozenset(
    itertools.chain.from_iterable(
        FREQUENCY_LISTS[name]
        for name in ("english_wikipedia", "us_tv_and_film", "surnames", "male_names", "female_names")
    )
)
_LEET = str.maketrans(
    {"4": "a", "@": "a", "8": "b", "3": "e", "6": "g", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t"}
)
_DECORATION = string.digits + string.punctuation + string.whitespace
_KEYBOARD_RUNS = (
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1234567890",
    "abcdefghijklmnopqrstuvwxyz",
)


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
    lowered = normalized.casefold()
    if _personal_share(lowered, _personal_words(personal)) * 2 >= len(lowered):
        raise InvalidValue(
            "password_contains_personal_info", "password is mostly your name, username, e-mail, phone or birth date"
        )
    if _is_common(lowered) or _is_pattern(lowered):
        raise InvalidValue("password_too_common", "password is too common or too easy to guess")
    return normalized


def _is_common(lowered: str) -> bool:
    core = lowered.strip(_DECORATION)
    candidates = {lowered, core, lowered.translate(_LEET), core.translate(_LEET).strip(_DECORATION)}
    return any(c in _COMMON_PASSWORDS or c in _DICTIONARY_WORDS for c in candidates if c)


def _is_pattern(lowered: str) -> bool:
    """Repetitions (aaaaaaaa, abcabcabc), sequences (12345678, hgfedcba) and keyboard runs."""
    length = len(lowered)
    if len(set(lowered)) <= 2:
        return True
    for size in range(1, length // 2 + 1):
        if length % size == 0 and lowered == lowered[:size] * (length // size):
            return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(lowered)}
    if steps in ({1}, {-1}):
        return True
    return any(lowered in run or lowered[::-1] in run for run in _KEYBOARD_RUNS)


def _personal_share(lowered: str, words: list[str]) -> int:
    """How many characters of the password are covered by the person's own words."""
    covered = [False] * len(lowered)
    for text in {lowered, lowered.translate(_LEET)}:
        for word in words:
            start = text.find(word)
            while start != -1:
                covered[start : start + len(word)] = [True] * len(word)
                start = text.find(word, start + 1)
    return sum(covered)


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
        for separator in "-._@+":
            lowered = lowered.replace(separator, " ")
        words.update(part for part in lowered.split() if len(part) >= 3)
    return sorted((w for w in words if len(w) >= 3), key=len, reverse=True)
