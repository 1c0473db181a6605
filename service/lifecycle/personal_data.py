"""Every table that holds personal data about an account holder, as one table: how the person's
rows are found and exported, which columns are sealed (and under which key and vault field),
what erasing the account does with them, whether the legal hold keeps them, and which retention
rule ends them.

The export (rights.exports) writes one archive section per entry; the erasure
(lifecycle.erasure) runs each entry's ``erase`` statements, and the legal hold
(lifecycle.holds) keeps and later purges the ``Hold.LEGAL`` entries. So nothing is erased that
is not exported, and a test fails when a table of the migrated schema is neither registered
here nor listed in ``NO_PERSONAL_DATA`` with the reason it holds none.

What the archive shows of other people: operators appear by their pseudonymous id and their
roles (never their e-mail, sign-in data or client address); another account (a guardian, a
ward) by its account id only; recipients by the name an admin registered. Client addresses and
user agents of the audit trail are opened only for entries the person made themselves or that
anonymous callers made against their account (sign-in attempts), never an operator's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
    field: str | Callable[[Mapping[str, Any]], str]
    key: Key = Key.PERSON
    shape: Shape = Shape.TEXT
    # JSON keys left out of the archive (one-time codes: secrets, not information about anyone).
    omit: tuple[str, ...] = ()

    def field_for(self, row: Mapping[str, Any]) -> str:
        return self.field if isinstance(self.field, str) else self.field(row)


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


def _contact_field(row: Mapping[str, Any]) -> str:
    return f"contact.{row['kind']}"


def _guardian_contact_field(row: Mapping[str, Any]) -> str:
    return f"guardian.{row['contact_kind']}"


def _evidence_field(row: Mapping[str, Any]) -> str:
    return f"case.evidence.{row['name']}"


def _face_sample_field(row: Mapping[str, Any]) -> str:
    return f"face.sample.{row['role']}"


# Operators are shown by id and roles (the roles subquery), never by what identifies them.

REGISTRY: tuple[PersonalData, ...] = (
    PersonalData(
        "accounts",
        "account",
        """SELECT a.id AS account_id, a.state, a.created_at, a.display_name, a.username, a.birth_date,
                  a.in_doubt_since,
                  EXISTS (SELECT 1 FROM totp_credentials t WHERE t.account_id = a.id AND t.confirmed_at IS NOT NULL)
                      AS totp_enabled
           FROM accounts a WHERE a.id = $1""",
        Erasure.SHREDDED,
        WHILE_THE_ACCOUNT_LIVES,
        sealed={
            "display_name": Sealed("account.display_name"),
            "username": Sealed("account.username"),
            "birth_date": Sealed("account.birth_date"),
        },
        erased_by="accounts.erasure (identifiers blanked, the data key destroyed)",
        single=True,
    ),
    PersonalData(
        "account_state_changes",
        "state_history",
        """SELECT from_state, to_state, event, actor, reason_code, notice, case_id, at FROM account_state_changes
           WHERE account_id = $1 ORDER BY id""",
        Erasure.KEPT,
        "kept for good: ids and codes only",
    ),
    PersonalData(
        "contacts",
        "contacts",
        "SELECT kind, address, verified_at, created_at FROM contacts WHERE account_id = $1 ORDER BY kind",
        Erasure.DELETED,
        WHILE_THE_ACCOUNT_LIVES,
        sealed={"address": Sealed(_contact_field)},
        erased_by="accounts.erasure",
    ),
    PersonalData(
        "one_time_codes",
        "one_time_codes",
        """SELECT purpose, attempts, created_at, expires_at, consumed_at FROM one_time_codes
           WHERE account_id = $1 ORDER BY created_at""",
        Erasure.DELETED,
        "one_time_codes",
        erased_by="accounts.erasure",
    ),
    PersonalData(
        "courier_messages",
        "messages",
        """SELECT channel, template, recipient, variables, status, attempts, created_at, sent_at
           FROM courier_messages WHERE owner_id = $1 ORDER BY created_at""",
        Erasure.SHREDDED,
        "outbox_messages",
        sealed={
            "recipient": Sealed("courier.recipient"),
            "variables": Sealed("courier.variables", shape=Shape.JSON, omit=("code",)),
        },
    ),
    PersonalData(
        "sessions",
        "sessions",
        """SELECT created_at, last_seen_at, expires_at, ended_at, end_reason, client_address, user_agent
           FROM sessions WHERE account_id = $1 ORDER BY created_at""",
        Erasure.SHREDDED,
        "sessions",
        sealed={"client_address": Sealed("session.client_address"), "user_agent": Sealed("session.user_agent")},
        erased_by="accounts.erasure (every session ended)",
    ),
    PersonalData(
        "totp_credentials",
        "second_factor",
        # The secret is a credential, not information about the person: whether and since when.
        "SELECT created_at, confirmed_at FROM totp_credentials WHERE account_id = $1",
        Erasure.DELETED,
        WHILE_THE_ACCOUNT_LIVES,
        erased_by="accounts.erasure",
    ),
    PersonalData(
        "recovery_codes",
        "recovery_codes",
        "SELECT used_at FROM recovery_codes WHERE account_id = $1 ORDER BY used_at NULLS LAST",
        Erasure.DELETED,
        WHILE_THE_ACCOUNT_LIVES,
        erased_by="accounts.erasure",
    ),
    PersonalData(
        "consent_events",
        "consents",
        """SELECT purpose, policy_version, action, channel, actor_account_id, at FROM consent_events
           WHERE account_id = $1 ORDER BY id""",
        Erasure.KEPT,
        "kept for good: ids and codes only",
    ),
    PersonalData(
        "audit_log",
        "audit_trail",
        """SELECT l.at, l.actor_type, l.actor_id,
                   (SELECT o.roles FROM operators o WHERE o.id::text = l.actor_id AND l.actor_type = 'operator')
                       AS actor_roles,
                   l.action, l.target_type, l.target_id, l.details,
                   CASE WHEN (l.actor_type = 'user' AND l.actor_id = $1::uuid::text) OR l.actor_type = 'anonymous'
                        THEN l.origin END AS origin
            FROM audit_log l
            WHERE (l.actor_type = 'user' AND l.actor_id = $1::uuid::text)
               OR (l.target_type = 'account' AND l.target_id = $1::uuid::text)
               OR (l.target_type = 'case'
                   AND l.target_id IN (SELECT id::text FROM review_cases WHERE subject_account_id = $1))
               OR (l.target_type = 'qualification'
                   AND l.target_id IN (SELECT id::text FROM qualifications WHERE account_id = $1))
               OR (l.target_type = 'recipient_notice'
                   AND l.target_id IN (SELECT id::text FROM recipient_notices WHERE account_id = $1))
            ORDER BY l.at, l.id""",
        Erasure.KEPT,
        "audit_origins",
        sealed={"origin": Sealed("audit.origin", key=Key.AUDIT_MONTH, shape=Shape.JSON)},
        json=("details",),
    ),
    PersonalData(
        "review_cases",
        "cases",
        """SELECT id, case_type, state, priority, reason_code, due_at, parent_case_id, appealed_case_type,
                  resubmissions, automated_results, created_at, updated_at, closed_at
           FROM review_cases WHERE subject_account_id = $1 ORDER BY created_at""",
        Erasure.KEPT,
        "kept for good: ids, codes and scores; open cases expire at erasure",
        erased_by="lifecycle.erasure (open cases expired)",
        json=("automated_results",),
    ),
    PersonalData(
        "review_case_evidence",
        "case_evidence",
        """SELECT case_id, name, value, version FROM review_case_evidence
            WHERE case_id IN (SELECT id FROM review_cases WHERE subject_account_id = $1) ORDER BY case_id, name""",
        Erasure.DELETED,
        "closed_case_evidence",
        sealed={"value": Sealed(_evidence_field)},
        erased_by="cases.store.erase_evidence_of_subject",
    ),
    PersonalData(
        "review_case_events",
        "case_history",
        """SELECT e.case_id, e.from_state, e.to_state, e.event, e.actor_type, e.actor_id,
                   (SELECT o.roles FROM operators o WHERE o.id::text = e.actor_id AND e.actor_type = 'operator')
                       AS actor_roles,
                   e.reason_code, e.note, e.at
            FROM review_case_events e
            WHERE e.case_id IN (SELECT id FROM review_cases WHERE subject_account_id = $1) ORDER BY e.case_id, e.id""",
        Erasure.SHREDDED,
        "kept for good (codes); notes unreadable once the key is destroyed",
        sealed={"note": Sealed("case.note")},
    ),
    PersonalData(
        "staged_decisions",
        "staged_decisions",
        """SELECT case_id, decision, reason_code, note, staged_by, staged_at, status, resolved_by, resolved_at
            FROM staged_decisions WHERE case_id IN (SELECT id FROM review_cases WHERE subject_account_id = $1)
            ORDER BY staged_at""",
        Erasure.SHREDDED,
        "kept for good with the case; notes unreadable once the key is destroyed",
        sealed={"note": Sealed("case.note")},
    ),
    PersonalData(
        "real_name_verifications",
        "real_name_verifications",
        """SELECT status, document_type, legal_name, id_number, birth_date, provider, provider_outcome,
                  provider_reference, checked_at, created_at, updated_at
           FROM real_name_verifications WHERE account_id = $1 ORDER BY created_at""",
        Erasure.BLANKED,
        "legal_hold",
        sealed={
            "legal_name": Sealed("realname.legal_name"),
            "id_number": Sealed("realname.id_number"),
            "birth_date": Sealed("realname.birth_date"),
        },
        erase=(
            """UPDATE real_name_verifications
               SET legal_name = ''::bytea, id_number = ''::bytea, birth_date = ''::bytea, id_number_index = ''::bytea,
                   status = CASE WHEN status IN ('pending', 'verified') THEN 'withdrawn' ELSE status END,
                   updated_at = now()
               WHERE account_id = $1""",
        ),
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "correction_requests",
        "corrections",
        """SELECT case_id, status, birth_date, legal_name, id_number, identity_birth_date, document_type,
                  created_at, decided_at
           FROM correction_requests WHERE account_id = $1 ORDER BY created_at""",
        Erasure.BLANKED,
        "legal_hold",
        # Sealed in the same fields as the values they replace (corrections.requests).
        sealed={
            "birth_date": Sealed("account.birth_date"),
            "legal_name": Sealed("realname.legal_name"),
            "id_number": Sealed("realname.id_number"),
            "identity_birth_date": Sealed("realname.birth_date"),
        },
        erase=(
            """UPDATE correction_requests
               SET birth_date = CASE WHEN birth_date IS NULL THEN NULL ELSE ''::bytea END,
                   legal_name = CASE WHEN legal_name IS NULL THEN NULL ELSE ''::bytea END,
                   id_number = CASE WHEN id_number IS NULL THEN NULL ELSE ''::bytea END,
                   id_number_index = NULL, identity_birth_date = NULL
               WHERE account_id = $1""",
        ),
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "documents",
        "documents",
        """SELECT d.id, d.kind, d.byte_size, d.width, d.height, d.created_at, d.deleted_at, d.content,
                  ARRAY(SELECT c.case_id FROM case_documents c WHERE c.document_id = d.id) AS case_ids,
                  ARRAY(SELECT q.qualification_id FROM qualification_documents q WHERE q.document_id = d.id)
                      AS qualification_ids
           FROM documents d WHERE d.account_id = $1 ORDER BY d.created_at""",
        Erasure.EMPTIED,
        "documents",
        sealed={"content": Sealed("document.content", shape=Shape.BYTES)},
        erase=("UPDATE documents SET content = NULL, deleted_at = now() WHERE account_id = $1 AND deleted_at IS NULL",),
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "qualifications",
        "qualifications",
        """SELECT id, status, organization_name, credit_code, job_title, work_email, work_email_verified_at,
                  valid_until, decided_at, end_reason, created_at
           FROM qualifications WHERE account_id = $1 ORDER BY created_at""",
        Erasure.BLANKED,
        "legal_hold",
        sealed={
            name: Sealed(f"qualification.{name}")
            for name in ("organization_name", "credit_code", "job_title", "work_email")
        },
        erase=(
            """UPDATE qualifications
               SET organization_name = ''::bytea, credit_code = ''::bytea, job_title = ''::bytea, work_email = ''::bytea
               WHERE account_id = $1""",
        ),
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "face_verifications",
        "face_verifications",
        # The template is numbers only the model reads; the images and scores it came from are here.
        """SELECT id, case_id, status, score, accept_threshold, reject_threshold, model_version, liveness_method,
                  reason_codes, template IS NOT NULL AS template_kept, created_at, decided_at
           FROM face_verifications WHERE account_id = $1 ORDER BY created_at""",
        Erasure.EMPTIED,
        "legal_hold",
        erased_by="face.store.erase_biometric_data (and the biometric keys destroyed)",
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "face_samples",
        "face_images",
        """SELECT s.verification_id, s.role, s.content, s.created_at, s.keep_until, s.deleted_at
           FROM face_samples s JOIN face_verifications v ON v.id = s.verification_id
           WHERE v.account_id = $1 ORDER BY s.created_at, s.role""",
        Erasure.EMPTIED,
        "face_images",
        sealed={"content": Sealed(_face_sample_field, key=Key.BIOMETRIC, shape=Shape.BYTES)},
        erased_by="face.store.erase_biometric_data",
        hold=Hold.LEGAL,
        through=("verification_id", "face_verifications"),
    ),
    PersonalData(
        "guardian_invitations",
        "guardian_invitations",
        """SELECT contact_kind, contact, expires_at, accepted_at, created_at FROM guardian_invitations
           WHERE minor_account_id = $1 ORDER BY created_at""",
        Erasure.DELETED,
        "guardian_invitations",
        # The guardian's address as the minor entered it, sealed under the minor's key.
        sealed={"contact": Sealed(_guardian_contact_field)},
        erased_by="guardians.departure.end_guardianships_of",
    ),
    PersonalData(
        "guardianships",
        "guardianships",
        """SELECT minor_account_id, guardian_account_id, relationship, scopes, state, case_id, created_at,
                  ended_at, end_reason
           FROM guardianships WHERE minor_account_id = $1 OR guardian_account_id = $1 ORDER BY created_at""",
        Erasure.KEPT,
        "kept for good: ids and codes; ended at erasure",
        erased_by="guardians.departure.end_guardianships_of",
    ),
    PersonalData(
        "cancellations",
        "cancellations",
        """SELECT requested_at, erase_after, withdrawn_at, erased_at, outcome FROM cancellations
           WHERE account_id = $1 ORDER BY requested_at""",
        Erasure.KEPT,
        "legal_hold",
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "erasure_ledger",
        "erasures",
        "SELECT category, reason, items, erased_at FROM erasure_ledger WHERE account_id = $1 ORDER BY id",
        Erasure.KEPT,
        "kept for good: what a restored backup must have re-applied",
    ),
    PersonalData(
        "data_exports",
        "exports",
        """SELECT id, account_id AS subject_account_id, requested_by, status, requested_at, ready_at, expires_at,
                  downloaded_at
           FROM data_exports WHERE account_id = $1 OR requested_by = $1 ORDER BY requested_at""",
        Erasure.EMPTIED,
        "exports",
        erase=(
            """UPDATE data_exports SET status = 'expired', archive = NULL
               WHERE account_id = $1 AND archive IS NOT NULL""",
        ),
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "identity_bars",
        "identity_bars",
        """SELECT case_id, barred_until, created_at FROM identity_bars
            WHERE case_id IN (SELECT id FROM review_cases WHERE subject_account_id = $1) ORDER BY created_at""",
        Erasure.KEPT,
        "identity_bars",
    ),
    PersonalData(
        "disclosures",
        "disclosures",
        """SELECT r.name AS recipient, r.kind, d.categories, d.disclosed_at FROM disclosures d
           JOIN recipients r ON r.id = d.recipient_id WHERE d.account_id = $1 ORDER BY d.disclosed_at""",
        Erasure.KEPT,
        "legal_hold",
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "recipient_notices",
        "recipient_notices",
        """SELECT n.id, r.name AS recipient, n.event, n.attempts, n.created_at, n.acknowledged_at
           FROM recipient_notices n JOIN recipients r ON r.id = n.recipient_id
           WHERE n.account_id = $1 ORDER BY n.created_at""",
        Erasure.KEPT,
        "legal_hold",
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "sign_in_throttle",
        "",
        None,
        Erasure.KEPT,
        "sign_in_throttle",
        not_exported="keyed digests of identifiers and client addresses: no row can be tied to an account "
        "without the blind-index key; each expires within a day",
    ),
)

BY_TABLE = {entry.table: entry for entry in REGISTRY}
EXPORTED = tuple(entry for entry in REGISTRY if entry.export is not None)
HELD = tuple(entry for entry in REGISTRY if entry.hold is Hold.LEGAL)

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
    "policy_versions": "published policy texts",
    "recipients": "organisations receiving data (names, webhooks, secrets)",
    "case_documents": "links between case and document ids (exported with each document)",
    "qualification_documents": "links between qualification and document ids (exported with each document)",
    "operators": "staff, not account holders: their own data, kept under their own key",
    "operator_sessions": "staff sessions",
}
