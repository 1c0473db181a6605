"""The manifest of corrections (service.manifest), listed in service.capabilities.

Requests to correct the birth date or the verified identity.
"""

from __future__ import annotations

from datetime import timedelta

from service.cases.catalogue import REVIEWERS, VERIFYING_DECISIONS, CaseType, CaseTypeSpec
from service.corrections.outcomes import correction_case_changed
from service.corrections.routes import CorrectionController
from service.lifecycle.personal_data import Erasure, Hold, PersonalData, Sealed
from service.manifest import Capability, CaseTypeDeclaration
from service.operators.roles import Role
from service.vault.labels import VaultField

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
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
            "birth_date": Sealed(VaultField.ACCOUNT_BIRTH_DATE),
            "legal_name": Sealed(VaultField.REALNAME_LEGAL_NAME),
            "id_number": Sealed(VaultField.REALNAME_ID_NUMBER),
            "identity_birth_date": Sealed(VaultField.REALNAME_BIRTH_DATE),
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
)


CAPABILITY = Capability(
    "corrections",
    routes=(CorrectionController,),
    case_types=(
        CaseTypeDeclaration(
            CaseType.DATA_CORRECTION,
            CaseTypeSpec(timedelta(days=15), REVIEWERS | {Role.PRIVACY_OFFICER}, VERIFYING_DECISIONS),
            correction_case_changed,
        ),
    ),
    personal_data=PERSONAL_DATA,
)
