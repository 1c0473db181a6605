"""Case types and reason codes, as data: the types' names (what each type needs is declared by the
capability that owns it, in its manifest), and what each reason means.

``internal`` is for operators; ``user_message`` is what the user may read, and says nothing
about how a check works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from service.cases.states import DecisionKind
from service.i18n.catalogues import in_request_language
from service.operators.roles import Role
from service.registration import RegisteredTable


class CaseType(StrEnum):
    REAL_NAME = "real_name"
    QUALIFICATION = "qualification"
    FACE = "face"
    # The way without facial recognition: an operator checks photos of the identity document.
    DOCUMENT_REVIEW = "document_review"
    GUARDIAN_CONSENT = "guardian_consent"
    APPEAL = "appeal"
    DATA_CORRECTION = "data_correction"
    DATA_SUBJECT_REQUEST = "data_subject_request"
    # Ending an account for good (false information, abuse): always two operators.
    ACCOUNT_TERMINATION = "account_termination"
    # A person who lost both the password and the second factor proves who they are again: always
    # two operators, since approving removes the account's factors.
    ACCOUNT_RECOVERY = "account_recovery"


class SubjectRight(StrEnum):
    """What the person a case is about may do with it from /v1/me/cases."""

    # See the case while it is open (not only once decided).
    SEE_OPEN = "see_open"
    # End it before a decision: one's own request, never a case against one.
    WITHDRAW = "withdraw"
    # Appeal a rejection.
    APPEAL = "appeal"


# A person's own request: they see it, may take it back, and may appeal a refusal.
OWN_REQUEST = frozenset(SubjectRight)


@dataclass(frozen=True)
class CaseTypeSpec:
    sla: timedelta
    workers: frozenset[Role]
    decisions: frozenset[DecisionKind]
    # Who may confirm a decision another operator staged (four eyes).
    confirmers: frozenset[Role] = frozenset({Role.SENIOR_REVIEWER})
    subject_rights: frozenset[SubjectRight] = OWN_REQUEST


D = DecisionKind
# What most case types are decided with, and by whom.
REVIEWERS = frozenset({Role.REVIEWER, Role.SENIOR_REVIEWER})
VERIFYING_DECISIONS = frozenset({D.APPROVE, D.REJECT, D.REQUEST_RESUBMISSION})

# Each type is declared, with its spec, by the capability that owns it (its manifest,
# service.manifest); service.capabilities registers them here.
CASE_TYPES: RegisteredTable[CaseType, CaseTypeSpec] = RegisteredTable("case types")


def subject_may(case_type: CaseType, right: SubjectRight) -> bool:
    return right in CASE_TYPES[case_type].subject_rights


# Decisions on these types always wait for a second operator, whatever IDV_FOUR_EYES_DECISIONS says.
ALWAYS_FOUR_EYES = frozenset({CaseType.ACCOUNT_TERMINATION, CaseType.ACCOUNT_RECOVERY})

# How long a user has to answer a request for resubmission before the case expires.
RESUBMISSION_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class ReasonCode:
    code: str
    decisions: frozenset[DecisionKind]
    internal: str
    user_message: str


def _reason(code: str, decisions: set[DecisionKind], internal: str, user_message: str) -> ReasonCode:
    return ReasonCode(code, frozenset(decisions), internal, user_message)


_REASONS = [
    _reason(
        "evidence_consistent",
        {D.APPROVE},
        "Evidence checked and consistent with the declared information.",
        "Your verification was approved.",
    ),
    _reason(
        "name_mismatch",
        {D.REJECT, D.REQUEST_RESUBMISSION},
        "Declared name differs from the authoritative record or the document.",
        "The name you gave does not match your identity document.",
    ),
    _reason(
        "id_number_invalid",
        {D.REJECT, D.REQUEST_RESUBMISSION},
        "ID number fails validation or is unknown to the authority.",
        "The identity number you gave could not be verified.",
    ),
    _reason(
        "duplicate_identity",
        {D.REJECT},
        "The identity is already verified on another account.",
        "This identity is already in use. Contact support if you think this is wrong.",
    ),
    _reason(
        "document_unreadable",
        {D.REJECT, D.REQUEST_RESUBMISSION},
        "Document image blurred, cropped, glared or incomplete.",
        "We could not read your document. Please send a clearer picture.",
    ),
    _reason(
        "document_expired",
        {D.REJECT, D.REQUEST_RESUBMISSION},
        "Document validity period has ended.",
        "Your document has expired. Please send a valid one.",
    ),
    _reason(
        "face_mismatch",
        {D.REJECT, D.REQUEST_RESUBMISSION},
        "Selfie does not match the ID photo.",
        "We could not confirm that the photo shows you.",
    ),
    _reason(
        "liveness_failed",
        {D.REJECT, D.REQUEST_RESUBMISSION},
        "Liveness check failed or presentation attack suspected.",
        "We could not confirm you were present. Please try again.",
    ),
    _reason(
        "under_age_without_consent",
        {D.REJECT},
        "Minor without a verified guardian's consent.",
        "A parent or guardian must agree before you can use this.",
    ),
    _reason(
        "suspected_false_information",
        {D.REJECT},
        "Information believed false; see the case notes.",
        "The information you gave could not be accepted as true.",
    ),
    _reason(
        "termination_warranted",
        {D.APPROVE},
        "The account's false information or abuse warrants ending it.",
        "Your account was closed because the information given was false or the service was abused.",
    ),
    _reason(
        "termination_not_warranted",
        {D.REJECT},
        "The proposed termination is not warranted.",
        "Your account stays open.",
    ),
    _reason(
        "identity_confirmed",
        {D.APPROVE},
        "The real-name data matches the verified record and nothing suggests someone else is asking.",
        "We confirmed it is you: a recovery code was sent to your verified e-mail or phone.",
    ),
    _reason(
        "identity_not_confirmed",
        {D.REJECT},
        "Could not be confident the person asking is the account holder; see the case notes.",
        "We could not confirm it is you, so your account was not changed.",
    ),
    _reason(
        "request_fulfilled",
        {D.APPROVE},
        "Data-subject request carried out.",
        "Your request was carried out.",
    ),
    _reason(
        "request_unfounded",
        {D.REJECT},
        "Data-subject request refused (manifestly unfounded or excessive); reasons in the notes.",
        "Your request could not be carried out; you may appeal.",
    ),
    _reason(
        "original_decision_correct",
        {D.UPHOLD},
        "Appeal reviewed; the original decision stands.",
        "We reviewed your appeal and the decision stands.",
    ),
    _reason(
        "original_decision_wrong",
        {D.OVERTURN},
        "Appeal reviewed; the original decision was wrong.",
        "We reviewed your appeal and reversed the decision.",
    ),
    _reason(
        "new_evidence_accepted",
        {D.OVERTURN},
        "Appeal brought evidence that changes the outcome.",
        "We reviewed your appeal and reversed the decision.",
    ),
    # Not operator decisions: what the system records when a case ends another way.
    _reason("withdrawn_by_user", set(), "The user withdrew the case.", "You withdrew this request."),
    _reason(
        "consent_withdrawn", set(), "The user withdrew the consent this case relied on.", "You withdrew your consent."
    ),
    _reason("expired_without_response", set(), "No resubmission before the due time.", "This request expired."),
    _reason("account_erased", set(), "The subject's account was erased.", "Your account was deleted."),
    _reason(
        "checks_inconclusive", set(), "Automated checks referred the case to a person.", "A person is reviewing it."
    ),
]
REASONS: dict[str, ReasonCode] = {reason.code: reason for reason in _REASONS}


def user_message(code: str | None) -> str | None:
    """What the person is told, in the language of the request being answered (English in jobs:
    a notice is translated into its recipient's language when it is sent)."""
    reason = REASONS.get(code) if code else None
    return in_request_language(reason.user_message) if reason else None
