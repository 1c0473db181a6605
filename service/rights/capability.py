"""The manifest of rights (service.manifest), listed in service.capabilities.

Users' rights: exports of one's data and data-subject requests.
"""

from __future__ import annotations

from datetime import timedelta

from service.cases.catalogue import CaseType, CaseTypeSpec
from service.cases.states import DecisionKind
from service.lifecycle.personal_data import Erasure, Hold, PersonalData
from service.manifest import Capability, CaseTypeDeclaration
from service.operators.roles import Role
from service.rights.exports import build_job
from service.rights.requests import REQUEST_WORKERS
from service.rights.routes import ExportController, RightsRequestController

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
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
)


CAPABILITY = Capability(
    "rights",
    routes=(ExportController, RightsRequestController),
    jobs=(build_job,),
    case_types=(
        # Users' rights requests are answered within 15 days.
        CaseTypeDeclaration(
            CaseType.DATA_SUBJECT_REQUEST,
            CaseTypeSpec(
                timedelta(days=15),
                REQUEST_WORKERS,
                frozenset({DecisionKind.APPROVE, DecisionKind.REJECT}),
                frozenset({Role.PRIVACY_OFFICER}),
            ),
        ),
    ),
    personal_data=PERSONAL_DATA,
)
