"""Request and response bodies of correction requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from service.http.schemas import FREE_TEXT, NO_CONTROL_CHARACTERS, RequestBody
from verification.identity_numbers import IdDocumentType


class CorrectionRequest(RequestBody):
    """The corrected values (at least one) and why. A new ID number needs its document type."""

    statement: Annotated[str, msgspec.Meta(min_length=10, max_length=2000, pattern=FREE_TEXT)]
    birth_date: date | None = None
    legal_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)] | None = None
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NO_CONTROL_CHARACTERS)] | None = None
    document_type: IdDocumentType | None = None


class CorrectionStatus(msgspec.Struct):
    """``pending`` (an operator reviews it), ``applied``, ``refused`` (see the case), ``withdrawn``."""

    correction_id: UUID
    case_id: UUID
    status: str
    fields: list[str]
    created_at: datetime
    decided_at: datetime | None
