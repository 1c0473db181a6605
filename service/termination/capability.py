"""The manifest of termination (service.manifest), listed in service.capabilities.

Terminating an account for false information or abuse (four eyes).
"""

from __future__ import annotations

from datetime import timedelta

from service.cases.catalogue import CaseType, CaseTypeSpec
from service.cases.states import DecisionKind
from service.lifecycle.personal_data import Erasure, PersonalData
from service.manifest import Capability, CaseTypeDeclaration
from service.operators.roles import Role
from service.termination.outcomes import termination_case_changed
from service.termination.routes import TerminationController

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "identity_bars",
        "identity_bars",
        """SELECT case_id, barred_until, created_at FROM identity_bars
            WHERE case_id IN (SELECT id FROM review_cases WHERE subject_account_id = $1) ORDER BY created_at""",
        Erasure.KEPT,
        "identity_bars",
    ),
)


CAPABILITY = Capability(
    "termination",
    routes=(TerminationController,),
    case_types=(
        # A case against the person, not a request of theirs: they can neither withdraw it nor see it
        # before two operators have decided (a proposal is not a finding). An approved termination ends
        # the account, so there is nothing left to appeal from it.
        CaseTypeDeclaration(
            CaseType.ACCOUNT_TERMINATION,
            CaseTypeSpec(
                timedelta(days=7),
                frozenset({Role.SENIOR_REVIEWER}),
                frozenset({DecisionKind.APPROVE, DecisionKind.REJECT}),
                subject_rights=frozenset(),
            ),
            termination_case_changed,
        ),
    ),
    personal_data=PERSONAL_DATA,
)
