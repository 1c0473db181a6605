"""Request and response bodies of qualification certification."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from service.http.schemas import FREE_TEXT, NO_CONTROL_CHARACTERS, RequestBody
from service.qualifications.states import QualificationState

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)]


class QualificationRequest(RequestBody):
    """Where one works and as what. ``valid_until`` is the end of validity the documents show
    (for a certificate without one, the date to re-certify); the operator checks it against them."""

    organization_name: Text
    credit_code: Annotated[str, msgspec.Meta(min_length=18, max_length=18, pattern=NO_CONTROL_CHARACTERS)]
    job_title: Text
    work_email: Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=NO_CONTROL_CHARACTERS)]
    valid_until: date


class WorkEmailCode(RequestBody):
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]


class DocumentReceipt(msgspec.Struct):
    document_id: UUID
    kind: str
    byte_size: int
    width: int | None
    height: int | None


class QualificationView(msgspec.Struct):
    """``draft`` (confirm the work e-mail, add documents, submit), ``submitted`` (an operator
    reviews it), ``approved`` (in force until ``valid_until``), ``rejected``, ``withdrawn``,
    ``expired``, ``revoked``."""

    qualification_id: UUID
    status: QualificationState
    organization_name: str
    credit_code: str
    job_title: str
    work_email: str
    work_email_verified: bool
    valid_until: date
    documents: int
    case_id: UUID | None
    created_at: datetime
    decided_at: datetime | None
    end_reason: str | None


class Revocation(RequestBody):
    reason_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    note: Annotated[str, msgspec.Meta(max_length=2000, pattern=FREE_TEXT)] | None = None
