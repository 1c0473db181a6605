"""The manifest of sessions (service.manifest), listed in service.capabilities.

Sign-in, sessions and whoami.
"""

from __future__ import annotations

from datetime import timedelta

from service.cases.catalogue import REVIEWERS, CaseType, CaseTypeSpec, SubjectRight
from service.cases.states import DecisionKind
from service.lifecycle.personal_data import Erasure, PersonalData, Sealed
from service.manifest import Capability, CaseTypeDeclaration
from service.sessions.assisted import account_recovery_case_changed, recovery_decided_job
from service.sessions.routes import PasswordController, RecoveryController, SessionController
from service.vault.labels import VaultField

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "sessions",
        "sessions",
        """SELECT created_at, last_seen_at, expires_at, ended_at, end_reason, client_address, user_agent
           FROM sessions WHERE account_id = $1 ORDER BY created_at""",
        Erasure.SHREDDED,
        "sessions",
        sealed={
            "client_address": Sealed(VaultField.SESSION_CLIENT_ADDRESS),
            "user_agent": Sealed(VaultField.SESSION_USER_AGENT),
        },
        erased_by="accounts.erasure (every session ended)",
    ),
    PersonalData(
        "sign_in_throttle",
        "",
        None,
        Erasure.KEPT,
        "sign_in_throttle",
        not_exported="keyed digests of identifiers and client addresses: no row can be tied to an account "
        "without the blind-index key; each expires within a day",
    ),
)


CAPABILITY = Capability(
    "sessions",
    routes=(SessionController, PasswordController, RecoveryController),
    jobs=(recovery_decided_job,),
    case_types=(
        # Assisted recovery (sessions.assisted): always two operators (cases.catalogue.ALWAYS_FOUR_EYES),
        # since approving removes the account's factors. The holder sees an open case and may withdraw
        # it (someone else may have asked in their name); a refusal is not appealed: one asks again.
        CaseTypeDeclaration(
            CaseType.ACCOUNT_RECOVERY,
            CaseTypeSpec(
                timedelta(hours=72),
                REVIEWERS,
                frozenset({DecisionKind.APPROVE, DecisionKind.REJECT}),
                subject_rights=frozenset({SubjectRight.SEE_OPEN, SubjectRight.WITHDRAW}),
            ),
            account_recovery_case_changed,
        ),
    ),
    personal_data=PERSONAL_DATA,
)
