"""The gettext catalogues: ``service/locale/<locale>/LC_MESSAGES/idv.po``, one per language, compiled
by Babel when first used (no ``.mo`` file is kept in the repository or needs a build step).

A text's message id is its English wording, as written where it is raised. A few texts carry a
value (``the current version is {version}``): their message id names it in braces, and an English
text matching it is translated with the value carried over (see `Translations.text`).
"""

from __future__ import annotations

import functools
import gettext
import re
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import overload

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from service.i18n.languages import Language, request_language

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "idv"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"

# ``{name}`` (str.format) and ``%(name)s`` (python-format) placeholders.
PLACEHOLDER = re.compile(r"\{(\w*)(?:[!:][^{}]*)?\}|%\((\w+)\)[sdifr]")


def catalogue_path(language: Language) -> Path:
    return LOCALE_DIR / language.locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: Language) -> Catalog:
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language.locale, domain=DOMAIN)


def placeholders(text: str) -> list[str]:
    return sorted({brace or percent for brace, percent in PLACEHOLDER.findall(text)})


def _pattern(msgid: str) -> re.Pattern[str]:
    """A regular expression an English text with values matches, capturing each value by name."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in PLACEHOLDER.finditer(msgid):
        name = match.group(1) or match.group(2)
        parts.append(re.escape(msgid[position : match.start()]))
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        position = match.end()
    parts.append(re.escape(msgid[position:]))
    return re.compile("".join(parts), re.DOTALL)


@dataclass
class Translations:
    """One language's compiled catalogue."""

    language: Language
    compiled: gettext.GNUTranslations
    # English texts with values, as patterns, and the message id each stands for.
    patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    # Message ids without a context, to tell a text the catalogue has from one it lacks.
    known: frozenset[str] = frozenset()

    def text(self, english: str) -> str:
        """``english`` in this language; unchanged when the catalogue does not have it."""
        if english in self.known:
            return self.compiled.gettext(english)
        for pattern, msgid in self.patterns:
            if (match := pattern.fullmatch(english)) is not None:
                translated = self.compiled.gettext(msgid)
                # A value that is itself one of our texts (a field's or a document's name) is translated too.
                values = {k: self.compiled.gettext(v) if v in self.known else v for k, v in match.groupdict().items()}
                return translated.format_map(values)
        return english

    def in_context(self, context: str, english: str) -> str:
        """A text with a context (a courier template's name)."""
        return self.compiled.pgettext(context, english)


@functools.cache
def translations(language: Language) -> Translations:
    catalogue = read_catalogue(language)
    mo = BytesIO()
    write_mo(mo, catalogue, use_fuzzy=False)
    mo.seek(0)
    plain = [message.id for message in catalogue if message.id and not message.context]
    ids = [msgid for msgid in plain if isinstance(msgid, str)]
    # Only texts written with ``{name}`` values: the console's templates (``%(name)s``) fill theirs in themselves.
    patterns = [(_pattern(msgid), msgid) for msgid in ids if placeholders(msgid) and "{" in msgid]
    return Translations(language, gettext.GNUTranslations(mo), patterns, frozenset(ids))


def translate(english: str, language: Language) -> str:
    return translations(language).text(english)


def translatable(english: str) -> str:
    """Marks a text for the catalogues (``python -m service.i18n.extract`` finds it) where it is
    written, to be translated where it is shown (``in_request_language``); returns it unchanged."""
    return english


@overload
def in_request_language(english: str) -> str: ...
@overload
def in_request_language(english: None) -> None: ...
def in_request_language(english: str | None) -> str | None:
    """A text of an answer in the language of the request being answered (English outside one)."""
    language = request_language.get()
    if english is None or language is None:
        return english
    return translations(language).text(english)
