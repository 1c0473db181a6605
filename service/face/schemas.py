"""Request and response bodies of face verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from service.http.schemas import RequestBody
from verification.face.liveness import ChallengeAction

LIVENESS_NOTICE = (
    "Liveness here is an active challenge (the face must turn or come closer as asked, in "
    "order, within minutes): it is not certified presentation-attack detection."
)
CERTIFIED_LIVENESS_NOTICE = (
    "Liveness here is an active challenge (the face must turn or come closer as asked, in order, within "
    "minutes), and the frames are also judged by a certified presentation-attack detection vendor: {method}."
)
MAX_FRAMES_PER_ACTION = 6
# JSON carries images as base64 (about 4/3 of their size).
MAX_BODY_BYTES = 24 * 1024 * 1024

Frame = Annotated[bytes, msgspec.Meta(min_length=1)]
CaptureTime = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]


class FaceChallenge(msgspec.Struct):
    """Answer within ``expires_at``: the document portrait and, for each action in this order, a few
    camera frames (the first frame of the first action showing the face straight on)."""

    verification_id: UUID
    case_id: UUID
    nonce: str
    actions: list[ChallengeAction]
    expires_at: datetime
    liveness: str = LIVENESS_NOTICE


class FaceSubmission(RequestBody):
    """Images are base64 in JSON: JPEG or PNG, judged by their bytes."""

    nonce: Annotated[str, msgspec.Meta(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    document: Annotated[bytes, msgspec.Meta(min_length=1)]
    frames: Annotated[
        list[Annotated[list[Frame], msgspec.Meta(min_length=1, max_length=MAX_FRAMES_PER_ACTION)]],
        msgspec.Meta(min_length=1, max_length=4),
    ]
    # Optional: when each frame was captured, in milliseconds on the client's monotonic clock (e.g.
    # performance.now()), shaped like `frames`. Out of order or repeated: refused; a capture too short or
    # too long (IDV_FACE_CAPTURE_MIN_MS, IDV_FACE_CAPTURE_MAX_MS) goes to review (see verification.face.timing).
    captured_at: (
        Annotated[
            list[Annotated[list[CaptureTime], msgspec.Meta(min_length=1, max_length=MAX_FRAMES_PER_ACTION)]],
            msgspec.Meta(min_length=1, max_length=4),
        ]
        | None
    ) = None


class RecoveryFaceSubmission(RequestBody):
    """The answer to a challenge issued for an assisted recovery: frames per action (base64), no document
    (the live face is compared with the one the person's face verification accepted)."""

    nonce: Annotated[str, msgspec.Meta(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    frames: Annotated[
        list[Annotated[list[Frame], msgspec.Meta(min_length=1, max_length=MAX_FRAMES_PER_ACTION)]],
        msgspec.Meta(min_length=1, max_length=4),
    ]


class RecoveryFaceResult(msgspec.Struct):
    """What was recorded in the recovery case for its operators: ``liveness`` (``passed``,
    ``passed_without_margin``, ``failed``) and ``face_match`` against the stored face verification
    (``accept``, ``review``, ``reject``). It decides nothing: two operators decide the recovery."""

    case_id: UUID
    verification_id: UUID
    liveness: str
    face_match: str
    reason_codes: list[str]
    message: str = "The result was added to your recovery request; our staff will decide it."


class FaceResult(msgspec.Struct):
    """``verified``, ``rejected`` (see ``reason_codes``; ask for a new challenge to try again),
    ``in_review`` (an operator compares the photos), ``retry`` (a photo could not be used and the
    challenge was retaken twice already or expired: ask for a new one), ``withdrawn``, ``none``.
    ``decided_by`` says how it was decided: ``automatic`` (by the checks; ``liveness_method`` names
    the presentation-attack detection) or ``operator`` (a person reviewed every photo)."""

    status: str
    verification_id: UUID | None = None
    case_id: UUID | None = None
    reason_codes: list[str] = msgspec.field(default_factory=list)
    decided_at: datetime | None = None
    decided_by: str | None = None
    liveness_method: str | None = None


class FaceVerifiedBy(msgspec.Struct):
    """How the face verification in force was decided, for relying apps to weigh it: ``automatic`` (the
    checks alone, no person looked) or ``operator_review`` (a person compared every photo); ``pad`` is the
    presentation-attack detection that judged the frames (e.g. ``active-challenge-v2``), and
    ``certified_pad`` says whether it is certified to ISO/IEC 30107-3 (the built-in challenge is not)."""

    method: Literal["automatic", "operator_review"]
    pad: str | None
    certified_pad: bool
    verified_at: datetime | None
