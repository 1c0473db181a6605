"""Every table that holds personal data about an account holder, as one table (each declared by
the capability that holds it, in its manifest; service.manifest): how the person's rows are found
and exported, which columns are sealed (and under which key and vault field),
what erasing the account does with them, whether the legal hold keeps them, and which retention
rule ends them.

The export (rights.exports) writes one archive section per entry; the erasure
(lifecycle.erasure) runs each entry's ``erase`` statements, and the legal hold
(lifecycle.holds) keeps and later purges the ``Hold.LEGAL`` entries. So nothing is erased that
is not exported, and a test fails when a table of the migrated schema is neither declared by a
capability nor listed in ``NO_PERSONAL_DATA`` with the reason it holds none.

What the archive shows of other people: operators appear by their pseudonymous id and their
roles (never their e-mail, sign-in data or client address); another account (a guardian, a
ward) by its account id only; recipients by the name an admin registered. Client addresses and
user agents of the audit trail are opened only for entries the person made themselves or that
anonymous callers made against their account (sign-in attempts), never an operator's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from service.registration import RegisteredList, RegisteredTable
from service.vault.labels import VaultField

if TYPE_CHECKING:
    import asyncpg

    from service.accounts.states import AccountEvent
    from service.audit import Actor
    from service.vault import Vault


class Key(StrEnum):
    """Whose data key a sealed column is sealed under."""

    PERSON = "person"  # the account's own key
    BIOMETRIC = "biometric"  # one key per face verification (face.keys), destroyed on withdrawal
    AUDIT_MONTH = "audit_month"  # one key per calendar month (audit.trail), ``YYYY-MM`` prefixed


class Shape(StrEnum):
    """How an opened value is written into the archive."""

    TEXT = "text"
    JSON = "json"
    BYTES = "bytes"  # base64, e.g. a document's or an image's content


@dataclass(frozen=True)
class Sealed:
    # The vault field: fixed, or given the row (e.g. ``contact.email`` for an e-mail contact).
    field: VaultField | Callable[[Mapping[str, Any]], str]
    key: Key = Key.PERSON
    shape: Shape = Shape.TEXT
    # JSON keys left out of the archive (one-time codes: secrets, not information about anyone).
    omit: tuple[str, ...] = ()

    def field_for(self, row: Mapping[str, Any]) -> str:
        return self.field if isinstance(self.field, VaultField) else self.field(row)


# Kept while the account lives; ended by its erasure (a cancellation, the guardian window, or the
# terminated_accounts retention category).
WHILE_THE_ACCOUNT_LIVES = "account"


class Erasure(StrEnum):
    """What erasing the account does with the person's rows."""

    DELETED = "deleted"  # the rows go
    EMPTIED = "emptied"  # the content goes, the record stays (under the legal hold)
    BLANKED = "blanked"  # every personal value is blanked, the record stays (under the legal hold)
    SHREDDED = "shredded"  # the rows stay; their sealed values are unreadable once the key is destroyed
    KEPT = "kept"  # the rows hold ids and codes only, and stay (append-only evidence)


class Hold(StrEnum):
    NONE = "none"
    # Kept, minimized, for the legal_hold retention period after the erasure (lifecycle.holds).
    LEGAL = "legal"


@dataclass(frozen=True)
class PersonalData:
    table: str
    # The archive section; the query takes the account id as $1 and returns sealed columns sealed.
    # None only with ``not_exported`` saying why.
    section: str
    export: str | None
    erasure: Erasure
    # What ends the rows: a category of `idv retention report` (lifecycle.retention), the account's
    # own end (WHILE_THE_ACCOUNT_LIVES), or "kept for good: ..." for records of ids and codes only.
    retention: str
    sealed: Mapping[str, Sealed] = field(default_factory=dict)
    # Statements erase_account runs (the account id as $1); empty when the capability that owns
    # the table does it (``erased_by``) or the key's destruction is what erases.
    erase: tuple[str, ...] = ()
    erased_by: str = ""
    hold: Hold = Hold.NONE
    # For rows that belong to the person through another registered table's row: (the column
    # referencing it, that table). The legal hold deletes them with it.
    through: tuple[str, str] | None = None
    # One row, written as an object rather than a list.
    single: bool = False
    # Columns holding JSON text, written as JSON.
    json: tuple[str, ...] = ()
    not_exported: str = ""


@dataclass(frozen=True)
class AccountErasure:
    """One account being erased, as each capability's erasure step receives it (the manifest's
    ``erase``; lifecycle.erasure runs the steps in the order service.capabilities declares)."""

    account_id: UUID
    # The account's transition to ``erased`` (a cancellation, a termination, the guardian window).
    event: AccountEvent
    reason: str
    actor: Actor
    vault: Vault


# A capability's own part of erasing an account, in the erasure's transaction: what its
# ``PersonalData`` statements cannot say (keys to destroy, cases to end, notices to send).
ErasureStep = Callable[["asyncpg.Connection", AccountErasure], Awaitable[None]]


# Each capability declares the tables it holds in its manifest (service.manifest ``personal_data``);
# service.capabilities registers them here, in the order of its list.
REGISTRY: RegisteredList[PersonalData] = RegisteredList("personal-data tables")
BY_TABLE: RegisteredTable[str, PersonalData] = RegisteredTable("personal-data tables")
EXPORTED: RegisteredList[PersonalData] = RegisteredList("exported personal-data tables")
HELD: RegisteredList[PersonalData] = RegisteredList("personal-data tables under the legal hold")
# The capabilities' erasure steps (their manifests' ``erase``), by capability name, in the order
# service.capabilities.ERASURE_ORDER declares.
ERASURE_STEPS: RegisteredList[tuple[str, ErasureStep]] = RegisteredList("erasure steps")


def register(entries: Iterable[PersonalData]) -> None:
    entries = tuple(entries)
    REGISTRY.fill(entries)
    BY_TABLE.fill((entry.table, entry) for entry in entries)
    EXPORTED.fill(entry for entry in entries if entry.export is not None)
    HELD.fill(entry for entry in entries if entry.hold is Hold.LEGAL)


def register_erasure_steps(steps: Iterable[tuple[str, ErasureStep]]) -> None:
    ERASURE_STEPS.fill(steps)


async def erase_registered_data(conn: asyncpg.Connection, erasure: AccountErasure) -> None:
    """What the registry's entries erase themselves: documents' and exports' content, and every
    personal value of what stays under the legal hold (lifecycle.holds), in the registry's order."""
    for entry in REGISTRY:
        for statement in entry.erase:
            await conn.execute(statement, erasure.account_id)


# Tables of the migrated schema that hold no personal data about account holders, and why.
NO_PERSONAL_DATA: dict[str, str] = {
    "schema_migrations": "which migrations ran",
    "pgqueuer": "jobs; payloads carry ids only",
    "pgqueuer_log": "job history; ids only",
    "pgqueuer_schedules": "schedules",
    "pgqueuer_statistics": "job counts",
    "scheduled_job_runs": "when each scheduled job ran",
    "data_keys": "key material; what each key opens is registered with the tables it seals",
    "master_keys": "master key ids and when each was active and emptied",
    "blind_index_rotations": "progress of re-indexing under a new blind-index key",
    "audit_chains": "public starting hashes",
    "audit_checkpoints": "chain positions and hashes",
    "audit_archives": "archived months of the trail: file name, digest, entry count, when",
    "audit_archive_chains": "each archived chain's first and last position and hash",
    "policy_versions": "published policy texts",
    "policy_translations": "published translations of policy texts",
    "recipients": "organisations receiving data (names, webhooks, secrets)",
    "case_documents": "links between case and document ids (exported with each document)",
    "qualification_documents": "links between qualification and document ids (exported with each document)",
    "operators": "staff, not account holders: their own data, kept under their own key",
    "operator_sessions": "staff sessions",
    "operator_passkeys": "staff passkeys, under the operator's own key",
    "operator_passkey_challenges": "staff passkey ceremonies under way (random challenges)",
    "session_signing_keys": "the service's keys that sign session tokens (public keys, sealed private keys)",
}
