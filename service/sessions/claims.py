"""What whoami says about a principal: its assurance and proofing flags, under the doubt rule.

Read by whoami (its body and forward-auth headers) and by the signed session tokens
(service/tokens), so that both say the same."""

from __future__ import annotations

from service.face.schemas import FaceVerifiedBy
from service.sessions.schemas import Assurance
from service.sessions.sessions import Principal


def proofing_flags(principal: Principal) -> tuple[bool, bool, bool, bool]:
    """Real name, qualification, face, document review: as proved, unless vouching is suspended.

    While an operator doubts the account (restricted, or found false and suspended, and whatever
    state it moved to since), what it proved earlier is not vouched for: a gateway reading only
    the flags must not let it through."""
    if principal.in_doubt:
        return (False, False, False, False)
    return (principal.real_name_verified, principal.qualified, principal.face_verified, principal.document_reviewed)


def face_verified_by(principal: Principal) -> FaceVerifiedBy | None:
    """How the face was verified, under the same doubt rule as the flags."""
    return None if principal.in_doubt else principal.face_verified_by


def assurance(principal: Principal) -> Assurance:
    real_name, qualified, face, reviewed = proofing_flags(principal)
    return Assurance(
        principal.assurance,
        principal.email_verified,
        principal.phone_verified,
        principal.totp_enabled,
        real_name,
        qualified,
        face,
        reviewed,
        face_verified_by(principal),
    )
