"""The manifest of cases (service.manifest), listed in service.capabilities.

Review cases: the queue, decisions, appeals and the sweep of overdue cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import asyncpg

from service.cases import store
from service.cases.cases import lock_case, transition
from service.cases.catalogue import REVIEWERS, CaseType, CaseTypeSpec, SubjectRight
from service.cases.routes import OwnCasesController, ReviewQueueController
from service.cases.states import CaseEvent, DecisionKind
from service.cases.sweep import sweep_schedule
from service.lifecycle.personal_data import AccountErasure, Erasure, PersonalData, Sealed
from service.manifest import Capability, CaseTypeDeclaration
from service.vault.labels import VaultField


def _evidence_field(row: Mapping[str, Any]) -> str:
    return f"case.evidence.{row['name']}"


# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "review_cases",
        "cases",
        """SELECT id, case_type, state, priority, reason_code, due_at, parent_case_id, appealed_case_type,
                  resubmissions, automated_results, created_at, updated_at, closed_at
           FROM review_cases WHERE subject_account_id = $1 ORDER BY created_at""",
        Erasure.KEPT,
        "kept for good: ids, codes and scores; open cases expire at erasure",
        erased_by="its erasure step, end_cases_of (open cases expired)",
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
        sealed={"note": Sealed(VaultField.CASE_NOTE)},
    ),
    PersonalData(
        "staged_decisions",
        "staged_decisions",
        """SELECT case_id, decision, reason_code, note, staged_by, staged_at, status, resolved_by, resolved_at
            FROM staged_decisions WHERE case_id IN (SELECT id FROM review_cases WHERE subject_account_id = $1)
            ORDER BY staged_at""",
        Erasure.SHREDDED,
        "kept for good with the case; notes unreadable once the key is destroyed",
        sealed={"note": Sealed(VaultField.CASE_NOTE)},
    ),
)


async def end_cases_of(conn: asyncpg.Connection, erasure: AccountErasure) -> None:
    """Cases still open end here: nobody may go on working on an erased person's data. Evidence
    holds personal values, some masked only partly (a name's first character, an ID number's
    ends): it goes with the person. The cases, their decisions and reason codes stay."""
    case_types = [case_type.value for case_type in CaseType]
    for case_id in await store.open_of_subject(conn, erasure.account_id, case_types):
        await transition(
            conn, await lock_case(conn, case_id), CaseEvent.EXPIRE, erasure.actor, reason_code="account_erased"
        )
    await store.erase_evidence_of_subject(conn, erasure.account_id, case_types)


CAPABILITY = Capability(
    "cases",
    routes=(ReviewQueueController, OwnCasesController),
    schedules=(sweep_schedule,),
    case_types=(
        # An appeal is itself judged once: it may be withdrawn, not appealed again.
        CaseTypeDeclaration(
            CaseType.APPEAL,
            CaseTypeSpec(
                timedelta(days=7),
                REVIEWERS,
                frozenset({DecisionKind.UPHOLD, DecisionKind.OVERTURN}),
                subject_rights=frozenset({SubjectRight.SEE_OPEN, SubjectRight.WITHDRAW}),
            ),
        ),
    ),
    personal_data=PERSONAL_DATA,
    erase=end_cases_of,
)
