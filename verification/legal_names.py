"""Legal names, as an identity document prints them, for real-name verification.

A legal name is compared with an authority's record character for character, so the rules are narrower than a
display name's: either Chinese characters, with the middle dot (U+00B7) between the parts of a minority or
transliterated name (阿卜杜拉·买买提), or Latin letters, diacritics allowed, with spaces, hyphens and apostrophes
(Anne-Marie O'Neil). One script per name; no digits, symbols or invisible characters.

What people type is folded towards that form first, since keyboards and input methods differ from the document:
NFC; full-width ASCII from a Chinese input method to ASCII; the dot look-alikes input methods offer (katakana middle
dot, bullet, hyphenation point, full stop, full-width full stop, ...) to U+00B7; curly and other apostrophes to
'; dashes to -; spaces around a middle dot or hyphen dropped. What cannot be folded without guessing (a space
inside a Chinese name, a doubled dot) is refused: the person, not we, should decide what the name is.
"""

from __future__ import annotations

import unicodedata

from verification.errors import InvalidValue

MIDDLE_DOT = "\u00b7"
MIN_CHINESE, MAX_CHINESE = 2, 30
MIN_LATIN, MAX_LATIN = 2, 100

ERROR_CODES = frozenset(
    {
        "too_short",
        "too_long",
        "invalid_characters",
        "unsupported_script",
        "mixed_scripts",
        "misplaced_separator",
        "no_letters",
    }
)

_DOT_LOOKALIKES = "\u30fb\uff65\u2022\u2027\u2219\u22c5\u2e31\u0387.\uff0e"
_APOSTROPHES = "\u2019\u2018\u02bc\u2032\u0060\u00b4\uff07"
_DASHES = "\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d"
_FOLD = str.maketrans(
    {
        **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
        "\u3000": " ",
        **dict.fromkeys(_DOT_LOOKALIKES, MIDDLE_DOT),
        **dict.fromkeys(_APOSTROPHES, "'"),
        **dict.fromkeys(_DASHES, "-"),
    }
)

# Unified and compatibility ideographs, extensions A-I. Ranges rather than the Unicode database, because
# characters of extensions newer than this Python's database (H, I) occur in names and must not read as unassigned.
_IDEOGRAPH_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2EE5F),
    (0x2F800, 0x2FA1F),
    (0x30000, 0x323AF),
)
_IDEOGRAPHIC_ZERO = "\u3007"  # a number in Unicode, yet written in some names
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
_MAX_INPUT = 4 * MAX_LATIN


def normalize_legal_name(value: str) -> str:
    """Return the name in its document form, or raise InvalidValue saying why it cannot be one."""
    if len(value) > _MAX_INPUT:
        raise InvalidValue("too_long", f"a legal name has at most {MAX_LATIN} characters")
    name = " ".join(unicodedata.normalize("NFC", value).translate(_FOLD).split())
    chinese = latin = False
    for character in name:
        if character.isascii():
            if character.isalpha():
                latin = True
            elif character not in " -'":
                _refuse(character)
        elif _is_ideograph(character):
            chinese = True
        elif _is_latin_letter(character):
            latin = True
        elif character != MIDDLE_DOT:
            _refuse(character)
    if chinese and latin:
        raise InvalidValue("mixed_scripts", "a legal name is written either in Chinese characters or in Latin letters")
    if chinese:
        return _chinese(name)
    if latin:
        return _latin(name)
    if not name:
        raise InvalidValue("too_short", "a legal name is required")
    raise InvalidValue("no_letters", "a legal name must contain letters")


def _is_ideograph(character: str) -> bool:
    code = ord(character)
    if 0x4E00 <= code <= 0x9FFF:  # where nearly every name character is
        return True
    return character == _IDEOGRAPHIC_ZERO or any(low <= code <= high for low, high in _IDEOGRAPH_RANGES)


def _is_latin_letter(character: str) -> bool:
    category = unicodedata.category(character)
    # Diacritics NFC could not compose onto their letter stay as combining marks; _latin() checks they follow one.
    if category.startswith("M"):
        return False
    return category.startswith("L") and unicodedata.name(character, "").startswith("LATIN ")


def _refuse(character: str) -> None:
    category = unicodedata.category(character)
    if category in _INVISIBLE:
        raise InvalidValue("invalid_characters", "a legal name cannot contain invisible or control characters")
    if category.startswith("N"):
        raise InvalidValue("invalid_characters", "a legal name cannot contain digits")
    if category.startswith("M"):
        return  # a diacritic; _latin() and _chinese() decide whether it belongs
    if category.startswith("L"):
        raise InvalidValue("unsupported_script", "a legal name is written in Chinese characters or Latin letters")
    raise InvalidValue("invalid_characters", "a legal name has only letters, spaces, hyphens and apostrophes")


def _chinese(name: str) -> str:
    name = name.replace(f" {MIDDLE_DOT}", MIDDLE_DOT).replace(f"{MIDDLE_DOT} ", MIDDLE_DOT)
    if " " in name:
        raise InvalidValue(
            "misplaced_separator", "a Chinese name has no spaces; separate the parts of a transliterated name with ·"
        )
    if any(not _is_ideograph(character) and character != MIDDLE_DOT for character in name):
        raise InvalidValue("invalid_characters", "a Chinese name has only Chinese characters and ·")
    if name.startswith(MIDDLE_DOT) or name.endswith(MIDDLE_DOT) or MIDDLE_DOT * 2 in name:
        raise InvalidValue("misplaced_separator", "· goes between the parts of a name, once")
    return _within(name, MIN_CHINESE, MAX_CHINESE)


def _latin(name: str) -> str:
    name = name.replace(" -", "-").replace("- ", "-")
    if MIDDLE_DOT in name:
        raise InvalidValue("invalid_characters", "a name in Latin letters has no dots")
    previous = " "
    for character in name:
        separator = character in " -'"
        if separator and previous in " -'":
            raise InvalidValue("misplaced_separator", "spaces, hyphens and apostrophes go between letters, once")
        if unicodedata.category(character).startswith("M") and previous in " -'":
            raise InvalidValue("invalid_characters", "a diacritic must follow a letter")
        previous = character
    if previous in " -'":
        raise InvalidValue("misplaced_separator", "spaces, hyphens and apostrophes go between letters, once")
    return _within(name, MIN_LATIN, MAX_LATIN)


def _within(name: str, shortest: int, longest: int) -> str:
    if len(name) < shortest:
        raise InvalidValue("too_short", f"a legal name has at least {shortest} characters")
    if len(name) > longest:
        raise InvalidValue("too_long", f"a legal name has at most {longest} characters")
    return name
