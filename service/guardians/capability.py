"""The manifest of guardians (service.manifest), listed in service.capabilities.

Minors and their guardians: invitations, consent and the guardian window.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import asyncpg

from service.cases.catalogue import VERIFYING_DECISIONS, CaseType, CaseTypeSpec, SubjectRight
from service.guardians.departure import end_guardianships_of
from service.guardians.lifecycle import guardian_schedule
from service.guardians.outcomes import guardian_case_changed
from service.guardians.routes import GuardianController
from service.lifecycle.personal_data import AccountErasure, Erasure, PersonalData, Sealed
from service.manifest import Capability, CaseTypeDeclaration
from service.operators.roles import Role


def _guardian_contact_field(row: Mapping[str, Any]) -> str:
    return f"guardian.{row['contact_kind']}"


# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
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
)


async def end_guardianships(conn: asyncpg.Connection, erasure: AccountErasure) -> None:
    """A minor left without a guardian is suspended, not silently left alone."""
    await end_guardianships_of(conn, erasure.account_id, erasure.actor)


CAPABILITY = Capability(
    "guardians",
    routes=(GuardianController,),
    schedules=(guardian_schedule,),
    case_types=(
        CaseTypeDeclaration(
            CaseType.GUARDIAN_CONSENT,
            CaseTypeSpec(
                timedelta(hours=72),
                frozenset({Role.SENIOR_REVIEWER, Role.PRIVACY_OFFICER}),
                VERIFYING_DECISIONS,
                frozenset({Role.SENIOR_REVIEWER, Role.PRIVACY_OFFICER}),
                # The consent is the guardian's act (they revoke it themselves): the minor cannot withdraw it.
                subject_rights=frozenset({SubjectRight.SEE_OPEN, SubjectRight.APPEAL}),
            ),
            guardian_case_changed,
        ),
    ),
    personal_data=PERSONAL_DATA,
    erase=end_guardianships,
)
