"""The manifest of realname (service.manifest), listed in service.capabilities.

Real-name verification against the authority's registry.
"""

from __future__ import annotations

from datetime import timedelta

from service.cases.catalogue import REVIEWERS, VERIFYING_DECISIONS, CaseType, CaseTypeSpec
from service.consents.purposes import ConsentPurpose
from service.jobs.runner import JobDefinition
from service.lifecycle.personal_data import Erasure, Hold, PersonalData, Sealed
from service.manifest import Capability, CaseTypeDeclaration
from service.realname.outcomes import real_name_case_changed
from service.realname.routes import RealNameController
from service.realname.verification import check_job
from service.runtime import Runtime
from service.vault.labels import VaultField


def _check_job(runtime: Runtime) -> JobDefinition:
    return check_job(runtime, runtime.real_name)


# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "real_name_verifications",
        "real_name_verifications",
        """SELECT status, document_type, legal_name, id_number, birth_date, provider, provider_outcome,
                  provider_reference, checked_at, created_at, updated_at
           FROM real_name_verifications WHERE account_id = $1 ORDER BY created_at""",
        Erasure.BLANKED,
        "legal_hold",
        sealed={
            "legal_name": Sealed(VaultField.REALNAME_LEGAL_NAME),
            "id_number": Sealed(VaultField.REALNAME_ID_NUMBER),
            "birth_date": Sealed(VaultField.REALNAME_BIRTH_DATE),
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
)


CAPABILITY = Capability(
    "realname",
    routes=(RealNameController,),
    jobs=(_check_job,),
    case_types=(
        CaseTypeDeclaration(
            CaseType.REAL_NAME,
            CaseTypeSpec(timedelta(hours=24), REVIEWERS, VERIFYING_DECISIONS),
            real_name_case_changed,
            relies_on=ConsentPurpose.IDENTITY_DATA,
        ),
    ),
    personal_data=PERSONAL_DATA,
)
