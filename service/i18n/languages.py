"""The languages idv speaks, and which one a request asks for (``Accept-Language``, RFC 9110 12.5.4)."""

from __future__ import annotations

from contextvars import ContextVar
from enum import StrEnum


class Language(StrEnum):
    """A BCP 47 tag, as stored (``accounts.preferred_language``) and sent (``Content-Language``)."""

    ZH_CN = "zh-CN"
    EN = "en"

    @property
    def locale(self) -> str:
        """The gettext locale folder of its catalogue."""
        return self.value.replace("-", "_")


# The language of the request being answered; set by the HTTP edge, read where texts are rendered.
request_language: ContextVar[Language | None] = ContextVar("request_language", default=None)

# A header longer than this, or with more entries, is read only this far: nobody needs more.
_MOST_CHARACTERS = 512
_MOST_ENTRIES = 16


def language_of_tag(tag: str) -> Language | None:
    """The language serving a tag: every Chinese tag gets Simplified Chinese (what a reader of
    Traditional Chinese reads more easily than English), every English tag English."""
    primary = tag.strip().lower().split("-", 1)[0]
    if primary == "zh":
        return Language.ZH_CN
    if primary == "en":
        return Language.EN
    return None


def _quality(parameters: list[str]) -> float | None:
    """The ``q`` weight of one entry, 1 without one, None when it is malformed (the entry is ignored)."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "q":
            continue
        value = value.strip()
        if not (1 <= len(value) <= 5) or not all(c.isdigit() or c == "." for c in value) or value.count(".") > 1:
            return None
        quality = float(value)
        return quality if 0 <= quality <= 1 else None
    return 1.0


def negotiate(header: str | None, default: Language) -> Language:
    """The best of our languages for an ``Accept-Language`` header, else ``default``. Never raises:
    a malformed header (or one of thousands of characters) is read as far as it makes sense."""
    if not header:
        return default
    best: tuple[float, Language] | None = None
    for entry in header[:_MOST_CHARACTERS].split(",")[:_MOST_ENTRIES]:
        tag, *parameters = entry.split(";")
        quality = _quality(parameters)
        if quality is None or quality == 0:
            continue
        language = default if tag.strip() == "*" else language_of_tag(tag)
        if language is not None and (best is None or quality > best[0]):
            best = (quality, language)
    return default if best is None else best[1]


def current_language(default: Language) -> Language:
    return request_language.get() or default
