"""Request and response bodies of document review."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from service.http.schemas import RequestBody

MAX_BODY_BYTES = 16 * 1024 * 1024

Photo = Annotated[bytes, msgspec.Meta(min_length=1)]


class DocumentReviewRequest(RequestBody):
    """Photos (base64 JPEG or PNG) of the identity document's two sides; the back when it has one."""

    front: Photo
    back: Photo | None = None


class DocumentReviewStatus(msgspec.Struct):
    """``none``, ``in_review``, ``approved``, ``rejected``, ``resubmission_requested``, ``withdrawn``."""

    status: str
    case_id: UUID | None = None
    message: str | None = None
    updated_at: datetime | None = None
