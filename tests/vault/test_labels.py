"""Sealing and blind-index labels are declared once and never change (issue 22)."""

from __future__ import annotations

import uuid

import pytest

from service.lifecycle.personal_data import REGISTRY
from service.vault.blind_index import BlindIndex
from service.vault.cipher import CiphertextInvalid, OwnerCipher
from service.vault.labels import FieldFamily, IndexPurpose, VaultField, sealed_field

# The labels stored databases were written with: each is bound into ciphertexts or derives an
# index's sub-key, so changing one here means every stored value under it stops opening.
STORED_FIELDS = {
    "account.birth_date",
    "account.display_name",
    "account.username",
    "audit.origin",
    "avatar.content",
    "case.note",
    "contact.email",
    "contact.phone",
    "courier.recipient",
    "courier.variables",
    "document.content",
    "face.template",
    "guardian.email",
    "guardian.phone",
    "operator.email",
    "operator.passkey_name",
    "operator.totp",
    "passkey.name",
    "qualification.credit_code",
    "qualification.job_title",
    "qualification.organization_name",
    "qualification.work_email",
    "realname.birth_date",
    "realname.id_number",
    "realname.legal_name",
    "recipient.secret",
    "rights.export",
    "session.client_address",
    "session.user_agent",
    "tokens.signing_key",
    "totp.secret",
}
STORED_FAMILIES = {"case.evidence", "face.sample"}
STORED_PURPOSES = {
    "contact.email",
    "contact.phone",
    "fingerprint",
    "guardian.invitation",
    "identity.number",
    "one-time-code",
    "operator.email",
    "passkey.decoy",
    "recovery-code",
    "throttle",
    "username",
    "work-email-code",
}


def test_the_declared_labels_are_the_stored_ones() -> None:
    assert {str(field) for field in VaultField} == STORED_FIELDS
    assert {str(family) for family in FieldFamily} == STORED_FAMILIES
    assert {str(purpose) for purpose in IndexPurpose} == STORED_PURPOSES


def test_a_constant_seals_as_the_string_it_replaced() -> None:
    owner, key = uuid.uuid4(), bytes(32)
    sealed = OwnerCipher(owner, key).seal(VaultField.ACCOUNT_BIRTH_DATE, "2000-01-02")
    assert OwnerCipher(owner, key).open_text("account.birth_date", sealed) == "2000-01-02"  # type: ignore[arg-type]
    evidence = OwnerCipher(owner, key).seal(FieldFamily.CASE_EVIDENCE.of("statement"), "text")
    assert OwnerCipher(owner, key).open_text("case.evidence.statement", evidence) == "text"  # type: ignore[arg-type]
    with pytest.raises(CiphertextInvalid):
        OwnerCipher(owner, key).open(VaultField.REALNAME_BIRTH_DATE, sealed)
    index = BlindIndex(bytes(range(32)))
    assert index.digest(IndexPurpose.USERNAME, "alice") == index.digest("username", "alice")  # type: ignore[arg-type]


def test_families_and_kinds_resolve_to_declared_labels_only() -> None:
    assert VaultField.contact("email") is VaultField.CONTACT_EMAIL
    assert VaultField.guardian_contact("phone") is VaultField.GUARDIAN_PHONE
    assert VaultField.qualification("job_title") is VaultField.QUALIFICATION_JOB_TITLE
    assert IndexPurpose.contact("phone") is IndexPurpose.CONTACT_PHONE
    assert FieldFamily.FACE_SAMPLE.of("frame-0-1") == "face.sample.frame-0-1"
    with pytest.raises(ValueError, match="not a valid VaultField"):
        VaultField.contact("fax")
    for malformed in ("", "Statement", "a.b", "a b", "1st"):
        with pytest.raises(ValueError, match=r"malformed case\.evidence name"):
            FieldFamily.CASE_EVIDENCE.of(malformed)
    with pytest.raises(ValueError, match="not a valid FieldFamily"):
        sealed_field("account.birthdate")


def test_every_sealed_column_of_the_personal_data_registry_names_a_declared_field() -> None:
    # Sample rows for the fields chosen per row (a contact's kind, an evidence item's name, ...).
    row = {"kind": "email", "contact_kind": "phone", "name": "statement", "role": "document"}
    fields = [sealed.field_for(row) for entry in REGISTRY for sealed in entry.sealed.values()]
    assert fields
    for field in fields:
        assert sealed_field(field) == field
