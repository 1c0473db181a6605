"""The manifest of qualifications (service.manifest), listed in service.capabilities.

Professional qualifications: certification, expiry, revocation.
"""

from __future__ import annotations

from datetime import timedelta

from service.cases.catalogue import REVIEWERS, VERIFYING_DECISIONS, CaseType, CaseTypeSpec
from service.consents.purposes import ConsentPurpose
from service.lifecycle.personal_data import Erasure, Hold, PersonalData, Sealed
from service.manifest import Capability, CaseTypeDeclaration
from service.qualifications.lifecycle import expiry_schedule
from service.qualifications.outcomes import qualification_case_changed
from service.qualifications.routes import QualificationController, QualificationRevocationController
from service.vault.labels import VaultField

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "qualifications",
        "qualifications",
        """SELECT id, status, organization_name, credit_code, job_title, work_email, work_email_verified_at,
                  valid_until, decided_at, end_reason, created_at
           FROM qualifications WHERE account_id = $1 ORDER BY created_at""",
        Erasure.BLANKED,
        "legal_hold",
        sealed={
            name: Sealed(VaultField.qualification(name))
            for name in ("organization_name", "credit_code", "job_title", "work_email")
        },
        erase=(
            """UPDATE qualifications
               SET organization_name = ''::bytea, credit_code = ''::bytea, job_title = ''::bytea, work_email = ''::bytea
               WHERE account_id = $1""",
        ),
        hold=Hold.LEGAL,
    ),
)


CAPABILITY = Capability(
    "qualifications",
    routes=(QualificationController, QualificationRevocationController),
    schedules=(expiry_schedule,),
    case_types=(
        CaseTypeDeclaration(
            CaseType.QUALIFICATION,
            CaseTypeSpec(timedelta(hours=72), REVIEWERS, VERIFYING_DECISIONS),
            qualification_case_changed,
            relies_on=ConsentPurpose.IDENTITY_DATA,
        ),
    ),
    personal_data=PERSONAL_DATA,
)
