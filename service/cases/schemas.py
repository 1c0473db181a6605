"""Request and response bodies of review cases, and the structs other capabilities hand in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

import msgspec

from service.cases.catalogue import CaseType
from service.cases.states import CaseState, DecisionKind
from service.http.schemas import FREE_TEXT, RequestBody

ReasonCodeText = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z_]+$")]
# Notes may span lines; other control characters are refused.
Note = Annotated[str, msgspec.Meta(max_length=4000, pattern=FREE_TEXT)]


class Evidence(msgspec.Struct, frozen=True):
    """One piece of evidence: the value is sealed under the subject's key; ``masked`` is shown."""

    name: str
    value: str
    masked: str


class AutomatedResult(msgspec.Struct, frozen=True, omit_defaults=True):
    """What an automated check found. Never personal data: scores, versions, codes."""

    check: str
    outcome: str
    engine: str
    score: float | None = None
    threshold: float | None = None
    reason_code: str | None = None


class DecisionRequest(RequestBody):
    """A decision is taken by the operator who holds the case: claim it first, or send
    ``claim: true`` to claim an unclaimed case in the same request (audited as a claim)."""

    decision: DecisionKind
    reason_code: ReasonCodeText
    note: Note | None = None
    claim: bool = False


class SendBackRequest(RequestBody):
    note: Note | None = None


class RevealReason(StrEnum):
    IDENTITY_CHECK = "identity_check"
    DOCUMENT_COMPARISON = "document_comparison"
    USER_REQUEST = "user_request"
    LEGAL_OBLIGATION = "legal_obligation"
    FRAUD_INVESTIGATION = "fraud_investigation"


class RevealRequest(RequestBody):
    reason: RevealReason


class RevealedEvidence(msgspec.Struct):
    name: str
    value: str


class DecisionOutcome(msgspec.Struct):
    case_id: UUID
    state: CaseState
    staged: bool
    staged_decision_id: UUID | None = None


class CaseSummary(msgspec.Struct):
    case_id: UUID
    case_type: CaseType
    state: CaseState
    priority: int
    due_at: datetime
    subject_account_id: UUID
    subject_is_child: bool
    assignee_id: UUID | None
    created_at: datetime


class EvidenceView(msgspec.Struct):
    name: str
    masked: str
    version: int


class CaseHistoryEntry(msgspec.Struct):
    event: str
    from_state: CaseState | None
    to_state: CaseState
    actor_type: str
    actor_id: str
    reason_code: str | None
    note: str | None
    at: datetime


class StagedDecisionView(msgspec.Struct):
    staged_decision_id: UUID
    decision: DecisionKind
    reason_code: str
    staged_by: UUID
    staged_at: datetime
    note: str | None


class CaseDetail(msgspec.Struct):
    summary: CaseSummary
    parent_case_id: UUID | None
    resubmissions: int
    evidence_version: int
    evidence: list[EvidenceView]
    automated_results: list[AutomatedResult]
    history: list[CaseHistoryEntry]
    staged_decision: StagedDecisionView | None
    excluded_from_deciding: bool


class AppealedCase(msgspec.Struct):
    """The case an appeal is against and the operators' decisions on it."""

    summary: CaseSummary
    decisions: list[CaseHistoryEntry]
    # Whether this operator may see that case's personal values (its documents, photos) in clear
    # now, as ``case_to_reveal`` allows: a page offers them only then.
    may_reveal: bool = False


class ReasonCodeView(msgspec.Struct):
    code: str
    decisions: list[DecisionKind]
    internal: str
    user_message: str


class AppealRequest(RequestBody):
    statement: Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=FREE_TEXT)]


class OwnCase(msgspec.Struct):
    """A case as its subject sees it: user-safe reasons only."""

    case_id: UUID
    case_type: CaseType
    state: CaseState
    message: str | None
    created_at: datetime
    updated_at: datetime
    can_appeal: bool
    appeal_case_id: UUID | None
    parent_case_id: UUID | None
    due_at: datetime | None = None
    # For rights requests: the operator's written reasons with the decision.
    explanation: str | None = None
