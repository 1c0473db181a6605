"""Why an account changed state: each reason code with an internal description and what the person
is told (in their notice and in ``GET /v1/me``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# What a person can do about a decision against them, where there is a decision to appeal.
HOW_TO_APPEAL = "Sign in and appeal the decision from your cases (GET /v1/me/cases) within 30 days."
# A minor left without a guardian's consent: there is no decision to appeal, only a deadline.
WITHOUT_A_GUARDIAN = (
    "There is no decision to appeal: the account can be kept only with a parent's or guardian's consent. "
    "Until it is deleted you can sign in to see or export your data."
)


@dataclass(frozen=True)
class StateReason:
    internal: str
    user_message: str
    # What the person can do next, in the notice and the profile (None: nothing to add).
    next_step: str | None = None
    # Whether an appeal against a case can undo it (a suspension caused by an operator's decision).
    appealable: bool = False


SUSPENSION_REASONS: dict[str, StateReason] = {
    "repeated_identity_mismatch": StateReason(
        "Real-name checks failed repeatedly against the authoritative registry.",
        "The identity details you gave did not match official records several times.",
        HOW_TO_APPEAL,
        appealable=True,
    ),
    "guardian_consent_revoked": StateReason(
        "The minor's guardian revoked their consent and no other guardian consents.",
        "Your parent or guardian withdrew their consent. Without it your account will be deleted.",
        WITHOUT_A_GUARDIAN,
    ),
    "guardian_account_erased": StateReason(
        "The minor's only guardian's account was erased, which ended their consent.",
        "Your parent's or guardian's account was closed, which ended their consent. Without a guardian's "
        "consent your account will be deleted.",
        WITHOUT_A_GUARDIAN,
    ),
    "false_information": StateReason(
        "An operator found the information given to be false (four eyes).",
        "We found that information you gave us is not true.",
        HOW_TO_APPEAL,
        appealable=True,
    ),
}
# Suspensions that end with the minor's data when no guardian consents in time.
WITHOUT_GUARDIAN_REASONS = ("guardian_consent_revoked", "guardian_account_erased")


class RestrictionReason(StrEnum):
    IDENTITY_IN_DOUBT = "identity_in_doubt"
    SUSPECTED_TAKEOVER = "suspected_takeover"
    QUALIFICATION_IN_DOUBT = "qualification_in_doubt"


class LiftReason(StrEnum):
    VERIFIED_AGAIN = "verified_again"
    DOUBT_CLEARED = "doubt_cleared"
    RESTRICTED_IN_ERROR = "restricted_in_error"


RESTRICTION_REASONS: dict[str, StateReason] = {
    RestrictionReason.IDENTITY_IN_DOUBT: StateReason(
        "Evidence casts doubt on the identity given; the holder should verify again.",
        "We need to check the identity details on your account. Please verify your real name again.",
    ),
    RestrictionReason.SUSPECTED_TAKEOVER: StateReason(
        "Signs that someone other than the holder controls the account.",
        "We saw signs that someone else may be using your account. Please check your sessions and verify "
        "your identity.",
    ),
    RestrictionReason.QUALIFICATION_IN_DOUBT: StateReason(
        "A qualification the account relies on is being re-examined.",
        "We are checking a qualification on your account again. You may upload new documents.",
    ),
}

LIFT_REASONS: dict[str, StateReason] = {
    LiftReason.VERIFIED_AGAIN: StateReason(
        "The holder verified again and the doubt is resolved.",
        "Thank you for verifying again; your account works as before.",
    ),
    LiftReason.DOUBT_CLEARED: StateReason(
        "The check found nothing wrong.",
        "We found nothing wrong; your account works as before.",
    ),
    LiftReason.RESTRICTED_IN_ERROR: StateReason(
        "The restriction should not have been placed.",
        "Your account was restricted by mistake. We are sorry; it works as before.",
    ),
}

TERMINATION_REASONS: dict[str, StateReason] = {
    "false_information": SUSPENSION_REASONS["false_information"],
    "abuse": StateReason(
        "Two operators found the account was used for abuse.",
        "We found that your account was used in breach of the terms of service.",
    ),
}

OTHER_REASONS: dict[str, StateReason] = {
    "overturned_on_appeal": StateReason(
        "The decision that suspended the account was overturned on appeal.",
        "Your appeal succeeded; your account works as before.",
    ),
}

_ALL = {**SUSPENSION_REASONS, **RESTRICTION_REASONS, **LIFT_REASONS, **TERMINATION_REASONS, **OTHER_REASONS}


def user_message(reason_code: str | None) -> str:
    reason = _ALL.get(reason_code) if reason_code else None
    return reason.user_message if reason else ""


def next_step(reason_code: str | None) -> str | None:
    reason = _ALL.get(reason_code) if reason_code else None
    return reason.next_step if reason else None


def appealable(reason_code: str | None) -> bool:
    reason = _ALL.get(reason_code) if reason_code else None
    return reason.appealable if reason else False
