"""What people consent to, as data: each purpose, the notice it is granted against, and
whether basic service needs it (PIPL Art. 16: refusing an optional purpose must not block it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from service.policies.catalog import PolicyKind


class ConsentPurpose(StrEnum):
    TERMS_OF_SERVICE = "terms_of_service"
    PRIVACY_POLICY = "privacy_policy"
    IDENTITY_DATA = "identity_data"
    BIOMETRIC = "biometric"
    MARKETING = "marketing"
    THIRD_PARTY_SHARING = "third_party_sharing"
    # A guardian's consent to a minor's account under the children's privacy policy.
    GUARDIAN_CONSENT = "guardian_consent"


@dataclass(frozen=True)
class PurposeSpec:
    notice: PolicyKind
    # Basic service needs it: a new major version blocks the account until it is accepted again.
    required: bool
    # Sensitive personal information: its own separate consent before processing starts.
    sensitive: bool
    # Required purposes are not withdrawn; the way out of the terms is cancelling the account.
    withdrawable: bool
    # Only a guardian grants it, for a minor (through a guardianship, never the consents API).
    guardian_only: bool = False


P, K = ConsentPurpose, PolicyKind
PURPOSES: dict[ConsentPurpose, PurposeSpec] = {
    P.TERMS_OF_SERVICE: PurposeSpec(K.TERMS_OF_SERVICE, required=True, sensitive=False, withdrawable=False),
    P.PRIVACY_POLICY: PurposeSpec(K.PRIVACY_POLICY, required=True, sensitive=False, withdrawable=False),
    P.IDENTITY_DATA: PurposeSpec(K.IDENTITY_DATA_NOTICE, required=False, sensitive=True, withdrawable=True),
    P.BIOMETRIC: PurposeSpec(K.BIOMETRIC_NOTICE, required=False, sensitive=True, withdrawable=True),
    P.MARKETING: PurposeSpec(K.PRIVACY_POLICY, required=False, sensitive=False, withdrawable=True),
    P.THIRD_PARTY_SHARING: PurposeSpec(K.PRIVACY_POLICY, required=False, sensitive=False, withdrawable=True),
    P.GUARDIAN_CONSENT: PurposeSpec(
        K.CHILDREN_PRIVACY_POLICY, required=False, sensitive=True, withdrawable=True, guardian_only=True
    ),
}
REQUIRED_PURPOSES = [purpose for purpose, spec in PURPOSES.items() if spec.required]
