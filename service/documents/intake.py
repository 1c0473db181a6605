"""Screening an upload before it is stored: limits, kind by magic bytes, images re-encoded.

The work runs on the runtime's CPU pool; what comes out is safe to seal and keep. A refusal is a
422 naming the ``document`` field with the screen's stable code.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from service.documents import store
from service.http.problems import ProblemError, invalid_field
from service.runtime import Runtime
from service.vault import OwnerCipher
from verification.errors import InvalidValue
from verification.uploads import IMAGE_KINDS, UploadKind, UploadLimits, inspect_upload, sanitize_image

DOCUMENT_KINDS = frozenset({UploadKind.JPEG, UploadKind.PNG, UploadKind.PDF})
DOCUMENT_LIMITS = UploadLimits()
# What the HTTP layer lets through before the screen (which refuses above DOCUMENT_LIMITS.max_bytes
# with a clear code): a little more, so the screen is what answers.
MAX_UPLOAD_BODY = DOCUMENT_LIMITS.max_bytes + 64 * 1024


@dataclass(frozen=True)
class ScreenedDocument:
    kind: str
    content: bytes
    width: int | None
    height: int | None


def screen(data: bytes, allowed: frozenset[UploadKind], limits: UploadLimits) -> ScreenedDocument:
    """Synchronous: images come back re-encoded from their pixels (no metadata), PDFs as screened."""
    info = inspect_upload(data, allowed, limits)
    if info.kind in IMAGE_KINDS:
        image = sanitize_image(data, limits)
        return ScreenedDocument(image.kind.value, image.data, image.width, image.height)
    return ScreenedDocument(info.kind.value, data, None, None)


async def screen_upload(
    runtime: Runtime, data: bytes, allowed: frozenset[UploadKind] = DOCUMENT_KINDS, field: str = "document"
) -> ScreenedDocument:
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(runtime.cpu, screen, data, allowed, DOCUMENT_LIMITS)
    except InvalidValue as exc:
        if exc.code == "upload_too_large":
            raise ProblemError(413, exc.code, exc.message) from None
        raise invalid_field(field, exc.code, exc.message) from None


async def keep(conn: asyncpg.Connection, cipher: OwnerCipher, screened: ScreenedDocument) -> UUID:
    """Store a screened document sealed under its owner's key; returns its id."""
    document_id = uuid.uuid4()
    await store.insert(
        conn,
        document_id=document_id,
        account_id=cipher.owner_id,
        kind=screened.kind,
        content=cipher.seal("document.content", screened.content),
        byte_size=len(screened.content),
        width=screened.width,
        height=screened.height,
    )
    return document_id
