"""What the cases store answers: a case, its history, its evidence and its staged decision.

Kept apart from ``cases.cases`` (the model's behaviour) so the store builds them without
importing the module that imports it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from service.audit.entries import ActorKind
from service.cases.catalogue import CaseType
from service.cases.schemas import AutomatedResult
from service.cases.states import CaseEvent, CaseState, DecisionKind


class Case(msgspec.Struct, frozen=True):
    id: UUID
    case_type: CaseType
    subject_account_id: UUID
    state: CaseState
    priority: int
    due_at: datetime
    assignee_id: UUID | None
    subject_is_child: bool
    parent_case_id: UUID | None
    appealed_case_type: CaseType | None
    excluded_operator_ids: tuple[UUID, ...]
    resubmissions: int
    evidence_version: int
    automated_results: list[AutomatedResult]
    reason_code: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class QueuePosition(msgspec.Struct, frozen=True, array_like=True):
    """Where a page of the queue ended: the last case's place in the queue's order."""

    priority: int
    due_at: datetime
    id: UUID


class SubjectCase(msgspec.Struct, frozen=True):
    """One of a person's cases, with the appeal against it if there is one."""

    case: Case
    appeal_case_id: UUID | None


class CaseHistoryEvent(msgspec.Struct, frozen=True):
    from_state: CaseState | None
    to_state: CaseState
    event: CaseEvent
    actor_type: ActorKind
    actor_id: str
    reason_code: str | None
    # Sealed (VaultField.CASE_NOTE).
    note: bytes | None
    at: datetime


class EvidenceItem(msgspec.Struct, frozen=True):
    name: str
    # Sealed (FieldFamily.CASE_EVIDENCE of the name).
    value: bytes
    masked: str
    version: int


class StagedDecision(msgspec.Struct, frozen=True):
    id: UUID
    decision: DecisionKind
    reason_code: str
    # Sealed (VaultField.CASE_NOTE).
    note: bytes | None
    staged_by: UUID
    evidence_version: int
    staged_at: datetime


class QueueCount(msgspec.Struct, frozen=True):
    case_type: CaseType
    open: int
    overdue: int
    unassigned: int
