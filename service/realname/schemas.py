"""Request and response bodies of real-name verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody
from verification.identity_numbers import IdDocumentType


class RealNameRequest(RequestBody):
    legal_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)]
    document_type: IdDocumentType
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NO_CONTROL_CHARACTERS)]


class RealNameStatus(msgspec.Struct):
    """``pending``: the registry or an operator has yet to decide; ``verified``; ``rejected``
    (see the case for the reason; try again or appeal); ``withdrawn``; ``none``."""

    status: str
    case_id: UUID | None = None
    document_type: IdDocumentType | None = None
    checked_at: datetime | None = None
