"""Policy documents: versioned, hashed, published once and never changed.

A document's source is Markdown with a small header (title, effective_at, major); its sha256
is over the whole source. The documents in ``documents/<kind>@<version>.md`` are published at
start-up; admins publish newer versions through the API or `idv policies publish FILE`. The
current version of a kind is the newest one already in effect.

A version's published text is its English one. Its translations (``<kind>@<version>.zh-CN.md``)
are texts of the same version, each with its own sha256: a new translation is not a new version,
and a consent records the language and sha256 of the text the person was shown.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import itertools
from datetime import UTC, date, datetime
from enum import StrEnum

import msgspec


class PolicyKind(StrEnum):
    TERMS_OF_SERVICE = "terms_of_service"
    PRIVACY_POLICY = "privacy_policy"
    CHILDREN_PRIVACY_POLICY = "children_privacy_policy"
    BIOMETRIC_NOTICE = "biometric_notice"
    IDENTITY_DATA_NOTICE = "identity_data_notice"


# The language of a version's published text; translations add the others.
ORIGINAL_LANGUAGE = "en"
# The languages a translation may be in.
TRANSLATION_LANGUAGES = ("zh-CN",)


class PolicyDocument(msgspec.Struct, frozen=True):
    kind: PolicyKind
    version: str
    title: str
    effective_at: date
    major: bool
    sha256: str
    content: str
    source: str
    language: str = ORIGINAL_LANGUAGE
    # The same version's texts in other languages, by language.
    translations: dict[str, PolicyDocument] = msgspec.field(default_factory=dict)

    def in_language(self, language: str) -> PolicyDocument:
        """The text of this version in ``language``, else the published (English) one."""
        return self.translations.get(language, self)

    def with_translations(self, translations: list[PolicyDocument]) -> PolicyDocument:
        found = {t.language: t for t in translations if (t.kind, t.version) == (self.kind, self.version)}
        return msgspec.structs.replace(self, translations=found)


def parse_translation(kind: str, version: str, language: str, source: str) -> PolicyDocument:
    """A translation of a version: its effective date and weight are the version's (checked by
    the publisher), its title, text and sha256 its own."""
    if language not in TRANSLATION_LANGUAGES:
        raise PolicySourceError(f"translations are in {', '.join(TRANSLATION_LANGUAGES)}")
    return msgspec.structs.replace(parse_document(kind, version, source), language=language)


def file_name_parts(name: str) -> tuple[str, str, str]:
    """``terms_of_service@2026-11-01.zh-CN.md`` -> (kind, version, language)."""
    kind, _, rest = name.removesuffix(".md").partition("@")
    for language in TRANSLATION_LANGUAGES:
        if rest.endswith(f".{language}"):
            return kind, rest.removesuffix(f".{language}"), language
    return kind, rest, ORIGINAL_LANGUAGE


class PolicySourceError(ValueError):
    """A policy source that cannot be published; the message says why."""


def parse_document(kind: str, version: str, source: str) -> PolicyDocument:
    if not source.startswith("---\n") or "\n---\n" not in source:
        raise PolicySourceError("a policy starts with a header between '---' lines")
    header, _, content = source[4:].partition("\n---\n")
    fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in header.splitlines() if ":" in line)}
    try:
        policy_kind = PolicyKind(kind)
        effective_at = date.fromisoformat(fields["effective_at"])
        title = fields["title"]
    except KeyError as exc:
        raise PolicySourceError(f"the header needs {exc.args[0]}") from None
    except ValueError as exc:
        raise PolicySourceError(str(exc)) from None
    if not content.strip():
        raise PolicySourceError("the policy has no text")
    return PolicyDocument(
        kind=policy_kind,
        version=version,
        title=title,
        effective_at=effective_at,
        major=fields.get("major", "false").lower() == "true",
        sha256=hashlib.sha256(source.encode()).hexdigest(),
        content=content.lstrip("\n"),
        source=source,
    )


def repository_documents() -> list[PolicyDocument]:
    """The repository's published texts and their translations (``language`` tells them apart)."""
    folder = importlib.resources.files("service.policies") / "documents"
    documents = []
    for entry in folder.iterdir():
        if entry.name.endswith(".md"):
            kind, version, language = file_name_parts(entry.name)
            source = entry.read_text("utf-8")
            documents.append(
                parse_document(kind, version, source)
                if language == ORIGINAL_LANGUAGE
                else parse_translation(kind, version, language, source)
            )
    return documents


_revisions = itertools.count()


class PolicyCatalog:
    """The published versions, in memory; ``replace`` swaps in a fresh read of the table."""

    def __init__(self, documents: list[PolicyDocument]) -> None:
        self.documents = sorted(documents, key=lambda d: (d.kind, d.effective_at, d.version))
        # Unique across catalogues and reads: what is derived from the documents may be kept by it.
        self.revision = next(_revisions)

    def replace(self, documents: list[PolicyDocument]) -> None:
        self.documents = sorted(documents, key=lambda d: (d.kind, d.effective_at, d.version))
        self.revision = next(_revisions)

    def in_effect(self, kind: PolicyKind, today: date | None = None) -> list[PolicyDocument]:
        day = today or datetime.now(UTC).date()
        return [d for d in self.documents if d.kind is kind and d.effective_at <= day]

    def current(self, kind: PolicyKind, today: date | None = None) -> PolicyDocument:
        in_effect = self.in_effect(kind, today)
        if not in_effect:
            raise LookupError(f"no {kind} is in effect")
        return in_effect[-1]

    def acceptable_versions(self, kind: PolicyKind, today: date | None = None) -> list[str]:
        """Versions whose acceptance still counts: the last major version in effect and the
        minor ones after it (a minor change only notifies)."""
        in_effect = self.in_effect(kind, today)
        majors = [i for i, d in enumerate(in_effect) if d.major]
        start = majors[-1] if majors else 0
        return [d.version for d in in_effect[start:]]

    def all_current(self) -> list[PolicyDocument]:
        return [self.current(kind) for kind in PolicyKind if self.in_effect(kind)]

    def find(self, kind: PolicyKind, version: str) -> PolicyDocument | None:
        return next((d for d in self.documents if d.kind is kind and d.version == version), None)
