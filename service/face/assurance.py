"""How an account's face verification in force was decided, as whoami and the profile tell relying apps."""

from __future__ import annotations

from datetime import datetime

from service.face.schemas import FaceVerifiedBy

# The `X-Idv-Face-Verified-By` header: forward-auth gateways copy it and relying apps choose by it.
NOT_VERIFIED = "none"


def face_verified_by(
    decided_by: str | None, pad: str | None, pad_certified: bool | None, verified_at: datetime | None
) -> FaceVerifiedBy:
    """From the verified attempt's row. Only `automatic` was decided by the checks alone: a verified
    attempt that was not is one a person approved."""
    automatic = decided_by == "automatic"
    return FaceVerifiedBy(
        method="automatic" if automatic else "operator_review",
        pad=pad,
        certified_pad=bool(pad_certified),
        verified_at=verified_at,
    )


def verified_by_header(verified_by: FaceVerifiedBy | None) -> str:
    """`automatic`, `automatic_certified_pad`, `operator`, or `none` (not verified, or not vouched for)."""
    if verified_by is None:
        return NOT_VERIFIED
    if verified_by.method == "operator_review":
        return "operator"
    return "automatic_certified_pad" if verified_by.certified_pad else "automatic"
