"""Which English texts a person can read, found in the source: the catalogues' message ids.

Texts are written in English where they are raised (``Conflict("code", "Title", "Detail")``,
``FieldProblem(field, code, "message")``, ``InvalidValue(code, "message")``, the courier's
templates, the reasons of state changes), and translated once where they leave the service. So
the English text is the message id, and this module finds every one of them by reading the
source, as ``pybabel extract`` would read ``_()`` markers. ``idv i18n extract`` writes them to
``service/locale/idv.pot``; ``tests/i18n`` fails when a catalogue lacks one of them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "service", ROOT / "verification")
# The operator console's pages: their ``{% trans %}`` blocks and ``_()`` calls.
TEMPLATES = ROOT / "service" / "console" / "templates"

# Callee name -> positions (and keywords) of its arguments a person reads.
_DOMAIN_ERRORS = {
    "DomainError",
    "Invalid",
    "Rejected",
    "Unauthenticated",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Gone",
    "TooLarge",
    "RateLimited",
    "Unavailable",
}
_CALLS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    **{name: ((1, 2), ("title", "detail")) for name in _DOMAIN_ERRORS},
    "ProblemError": ((2, 3), ("title", "detail")),
    "problem_response": ((2, 3), ("title", "detail")),
    "FieldProblem": ((2,), ("message",)),
    "invalid_field": ((2,), ("message",)),
    "invalid_fields": ((), ("detail",)),
    "problem": ((2,), ("message",)),
    "InvalidValue": ((1,), ("message",)),
    # Its internal description too: the console shows it to operators choosing or reading a reason.
    "StateReason": ((0, 1, 2), ("internal", "user_message", "next_step")),
    # A case's reason: the operators' description and what the person is told.
    "_reason": ((2, 3), ("internal", "user_message")),
    # Values put into other texts: the name of a field, of a document.
    "clean_text": ((), ("label",)),
    # A text written in one place and translated where it is shown (the console's navigation).
    "translatable": ((0,), ()),
}
# Names assigned an English text a person reads (module constants, tuple assignments in problems).
_CONSTANTS = {
    "HOW_TO_APPEAL",
    "WITHOUT_A_GUARDIAN",
    "NOTICE_WORDS",
    "_DOCUMENT_LABELS",
    "QUALITY_HINTS",
    "message",
    "user_message",
    "next_step",
    "news",
}


# msgspec's messages for a body of the wrong shape (service/http/problems.field_problem passes them
# on; they never quote the value sent), as they are worded in msgspec.
LIBRARY_TEXTS = (
    "Expected `{expected}`, got `{got}`",
    "Expected `{expected}` of length <= {most}",
    "Expected `{expected}` of length >= {least}",
    "Expected `{expected}` <= {most}",
    "Expected `{expected}` >= {least}",
    "Invalid RFC3339 encoded date",
    "Invalid RFC3339 encoded datetime",
    "Invalid UUID",
)


@dataclass(frozen=True)
class Entry:
    msgid: str
    context: str | None
    location: tuple[str, int | None]


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _value_name(node: ast.expr) -> str:
    """The placeholder an f-string's value becomes: the last name in its expression."""
    names = [
        n.attr if isinstance(n, ast.Attribute) else n.id
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute | ast.Name)
    ]
    if isinstance(node, ast.Call) and node.args:
        return _value_name(node.args[0])
    if isinstance(node, ast.Subscript):
        return _value_name(node.slice)
    return names[0].lstrip("_").lower() if names else "value"


def _formatted(node: ast.JoinedStr) -> str:
    """An f-string as a message id: ``f"at most {limits.max_pdf_pages}"`` is ``at most {max_pdf_pages}``."""
    parts: list[str] = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value).replace("{", "{{").replace("}", "}}"))
        elif isinstance(value, ast.FormattedValue):
            parts.append("{" + _value_name(value.value) + "}")
    return "".join(parts)


def _texts(node: ast.expr | None) -> Iterator[str]:
    """String constants of an argument, both arms of a conditional included; f-strings with their
    values as named placeholders."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        yield _formatted(node)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _texts(value)
    elif isinstance(node, ast.IfExp):
        yield from _texts(node.body)
        yield from _texts(node.orelse)
    elif isinstance(node, ast.Tuple):
        for element in node.elts:
            yield from _texts(element)


def _source_entries(path: Path) -> Iterator[Entry]:
    relative = str(path.relative_to(ROOT))
    for node in ast.walk(ast.parse(path.read_text(), relative)):
        if isinstance(node, ast.Call) and (name := _callee(node)) in _CALLS:
            positions, keywords = _CALLS[name]
            arguments = [node.args[i] for i in positions if i < len(node.args)]
            arguments += [kw.value for kw in node.keywords if kw.arg in keywords]
            for argument in arguments:
                for text in _texts(argument):
                    yield Entry(text, None, (relative, None))
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and isinstance(node.iter, ast.Tuple):
            # for account_id, news in ((minor, "You are now an adult."), ...)
            for index, element in enumerate(node.target.elts):
                if isinstance(element, ast.Name) and element.id in _CONSTANTS:
                    for row in node.iter.elts:
                        if isinstance(row, ast.Tuple) and index < len(row.elts):
                            for text in _texts(row.elts[index]):
                                yield Entry(text, None, (relative, None))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else []
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            pairs: list[tuple[str, ast.expr | None]] = [
                (element.id, value)
                for target, value in ((t, node.value) for t in targets)
                if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                for element, value in zip(target.elts, value.elts, strict=False)
                if isinstance(element, ast.Name)
            ]
            pairs += [(name, node.value) for name in names]
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                pairs.append((node.target.id, node.value))
            for name, value in pairs:
                if name in _CONSTANTS:
                    for text in _texts(value):
                        yield Entry(text, None, (relative, None))


def template_entries() -> Iterator[Entry]:
    """Each courier template's subject and body, in the context of the template's name."""
    from service.courier.templates import TEMPLATES

    for name, template in TEMPLATES.items():
        for text in (template.subject, template.body):
            if text:
                yield Entry(text, name, ("service/courier/templates.py", None))


def page_entries() -> Iterator[Entry]:
    """The texts of the console's Jinja2 templates, as ``jinja2.ext.i18n`` asks the catalogue for
    them (service.console.routes renders with the same trimmed ``{% trans %}`` policy)."""
    from jinja2 import Environment
    from jinja2.ext import extract_from_ast

    environment = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    environment.policies["ext.i18n.trimmed"] = True
    for path in sorted(TEMPLATES.glob("*.html")):
        relative = str(path.relative_to(ROOT))
        # Not Babel's style: a text with named values (``_("%(count)s shown", count=n)``) is one string.
        calls = extract_from_ast(environment.parse(path.read_text()), ("_", "gettext"), babel_style=False)
        for _, function, strings in calls:
            texts = strings if isinstance(strings, tuple) else (strings,)
            if len(texts) != 1 or not isinstance(texts[0], str):
                raise ValueError(f"{relative}: {function} with plural forms or no text; the catalogues have none")
            yield Entry(texts[0], None, (relative, None))


def entries() -> list[Entry]:
    """Every text, once per (context, id), in the order found."""
    found: dict[tuple[str | None, str], Entry] = {}
    for entry in template_entries():
        found.setdefault((entry.context, entry.msgid), entry)
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            for entry in _source_entries(path):
                found.setdefault((entry.context, entry.msgid), entry)
    for entry in page_entries():
        found.setdefault((entry.context, entry.msgid), entry)
    for text in LIBRARY_TEXTS:
        found.setdefault((None, text), Entry(text, None, ("msgspec", None)))
    return list(found.values())


def update_catalogues() -> list[str]:
    """Write ``idv.pot`` from the source and bring each language's ``.po`` up to it: new texts are
    added untranslated (the English catalogue takes the English wording), texts no longer in the
    source are dropped, translations are kept. The paths written."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from service.i18n.catalogues import TEMPLATE, catalogue_path, read_catalogue
    from service.i18n.languages import Language

    found = entries()
    template = Catalog(domain="idv", project="idv", fuzzy=False, creation_date=_DATED)
    for entry in found:
        template.add(entry.msgid, locations=[_location(entry)], context=entry.context, flags=_flags(entry.msgid))
    written = [_write(TEMPLATE, template, write_po)]
    for language in Language:
        path = catalogue_path(language)
        old = read_catalogue(language) if path.exists() else Catalog(locale=language.locale)
        catalogue = Catalog(
            locale=language.locale, domain="idv", project="idv", fuzzy=False, creation_date=_DATED, revision_date=_DATED
        )
        for entry in found:
            kept = old.get(entry.msgid, context=entry.context)
            string = kept.string if kept is not None and kept.string else ""
            if language is Language.EN and not string:
                string = entry.msgid
            catalogue.add(
                entry.msgid, string, locations=[_location(entry)], context=entry.context, flags=_flags(entry.msgid)
            )
        written.append(_write(path, catalogue, write_po))
    return written


# A fixed date in the headers, so that extracting again changes nothing when no text changed.
_DATED = datetime(2026, 12, 3, tzinfo=UTC)


def _location(entry: Entry) -> tuple[str, int]:
    # Babel writes the file alone for a line of 0: catalogues do not churn when code moves.
    return entry.location[0], entry.location[1] or 0


def _flags(msgid: str) -> tuple[str, ...]:
    from service.i18n.catalogues import PLACEHOLDER

    kinds = [("python-format" if percent else "python-brace-format") for _, percent in PLACEHOLDER.findall(msgid)]
    return tuple(sorted(set(kinds)))


def _write(path: Path, catalogue: Any, write_po: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, catalogue, width=100, omit_header=False, sort_output=False)
    return str(path.relative_to(ROOT))


if __name__ == "__main__":
    for written in update_catalogues():
        print(written)
