"""Every label the vault binds into a value: the field a value is sealed under, and the purpose a
blind index is made for.

A sealed field is authenticated with its ciphertext and a purpose derives the index's sub-key, so
both are part of what is stored: renaming one makes every stored value or index under it
unreadable, and a misspelt one fails only when the value is opened or looked up. So the labels are
declared here once, `OwnerCipher` and `BlindIndex` take nothing else (mypy refuses a free string),
and the module refuses to import if two labels collide or one is malformed.
"""

from __future__ import annotations

import re
from enum import StrEnum, unique
from typing import Final


@unique
class VaultField(StrEnum):
    """A value's field: ``<capability>.<column>``. The strings are stored; never change one."""

    ACCOUNT_DISPLAY_NAME = "account.display_name"
    ACCOUNT_USERNAME = "account.username"
    ACCOUNT_BIRTH_DATE = "account.birth_date"
    AUDIT_ORIGIN = "audit.origin"
    AVATAR_CONTENT = "avatar.content"
    CASE_NOTE = "case.note"
    CONTACT_EMAIL = "contact.email"
    CONTACT_PHONE = "contact.phone"
    COURIER_RECIPIENT = "courier.recipient"
    COURIER_VARIABLES = "courier.variables"
    DOCUMENT_CONTENT = "document.content"
    FACE_TEMPLATE = "face.template"
    GUARDIAN_EMAIL = "guardian.email"
    GUARDIAN_PHONE = "guardian.phone"
    OPERATOR_EMAIL = "operator.email"
    OPERATOR_TOTP = "operator.totp"
    OPERATOR_PASSKEY_NAME = "operator.passkey_name"
    PASSKEY_NAME = "passkey.name"
    QUALIFICATION_ORGANIZATION_NAME = "qualification.organization_name"
    QUALIFICATION_CREDIT_CODE = "qualification.credit_code"
    QUALIFICATION_JOB_TITLE = "qualification.job_title"
    QUALIFICATION_WORK_EMAIL = "qualification.work_email"
    REALNAME_LEGAL_NAME = "realname.legal_name"
    REALNAME_ID_NUMBER = "realname.id_number"
    REALNAME_BIRTH_DATE = "realname.birth_date"
    RECIPIENT_SECRET = "recipient.secret"  # noqa: S105 (a field name, not a secret)
    RIGHTS_EXPORT = "rights.export"
    SESSION_CLIENT_ADDRESS = "session.client_address"
    SESSION_USER_AGENT = "session.user_agent"
    # The private key of a session-token signing key (service/tokens), under the key's own data key.
    TOKENS_SIGNING_KEY = "tokens.signing_key"
    TOTP_SECRET = "totp.secret"  # noqa: S105 (a field name, not a secret)

    @classmethod
    def contact(cls, kind: str) -> VaultField:
        """``contact.email`` or ``contact.phone``; an unknown kind raises ValueError."""
        return cls(f"contact.{kind}")

    @classmethod
    def guardian_contact(cls, kind: str) -> VaultField:
        return cls(f"guardian.{kind}")

    @classmethod
    def qualification(cls, column: str) -> VaultField:
        return cls(f"qualification.{column}")


@unique
class FieldFamily(StrEnum):
    """Fields whose last part is chosen at run time (an evidence item's name, an image's role)."""

    CASE_EVIDENCE = "case.evidence"
    FACE_SAMPLE = "face.sample"

    def of(self, name: str) -> FamilyField:
        return FamilyField(self, name)


class FamilyField(str):
    """``<family>.<name>``, e.g. ``case.evidence.statement``: a well-formed name is checked here."""

    __slots__ = ()

    def __new__(cls, family: FieldFamily, name: str) -> FamilyField:
        if not _NAME.fullmatch(name):
            raise ValueError(f"malformed {family} name: {name!r}")
        return super().__new__(cls, f"{family}.{name}")


# What OwnerCipher seals under.
SealedField = VaultField | FamilyField


@unique
class IndexPurpose(StrEnum):
    """What a blind index is for; each purpose derives its own sub-key. Stored; never change one."""

    CONTACT_EMAIL = "contact.email"
    CONTACT_PHONE = "contact.phone"
    GUARDIAN_INVITATION = "guardian.invitation"
    IDENTITY_NUMBER = "identity.number"
    KEY_FINGERPRINT = "fingerprint"
    ONE_TIME_CODE = "one-time-code"
    OPERATOR_EMAIL = "operator.email"
    PASSKEY_DECOY = "passkey.decoy"
    RECOVERY_CODE = "recovery-code"
    THROTTLE = "throttle"
    USERNAME = "username"
    WORK_EMAIL_CODE = "work-email-code"

    @classmethod
    def contact(cls, kind: str) -> IndexPurpose:
        return cls(f"contact.{kind}")


def sealed_field(label: str) -> SealedField:
    """The declared field a stored label names (a registry entry, a row's kind); ValueError if none."""
    try:
        return VaultField(label)
    except ValueError:
        family, _, name = label.rpartition(".")
        return FieldFamily(family).of(name)


# Evidence names and image roles (``statement``, ``frame-0-1``).
_NAME: Final = re.compile(r"[a-z][a-z0-9_-]*")
_FIELD: Final = re.compile(r"[a-z]+(\.[a-z][a-z0-9_]*)+")
_PURPOSE: Final = re.compile(r"[a-z]+([.-][a-z]+)*")


def _check() -> None:
    """Runs at import: every label well-formed, and no family able to produce a fixed field."""
    for field in VaultField:
        if not _FIELD.fullmatch(field):
            raise ValueError(f"malformed vault field {field!r}")
    for family in FieldFamily:
        if not _FIELD.fullmatch(family):
            raise ValueError(f"malformed field family {family!r}")
        clashing = [field for field in VaultField if field.startswith(f"{family}.")]
        if clashing:
            raise ValueError(f"{clashing} collide with the field family {family!r}")
    for purpose in IndexPurpose:
        if not _PURPOSE.fullmatch(purpose):
            raise ValueError(f"malformed blind-index purpose {purpose!r}")


_check()
