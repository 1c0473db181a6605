"""Screening an upload before it is stored: limits, kind by magic bytes, images re-encoded.

The work runs on the runtime's CPU pool, within the process's decode memory budget: what screening an upload
takes is estimated from its header first (a cheap look, refusing what the header already refuses), and the
screen runs once that much memory is free. What comes out is safe to seal and keep. A refusal is a 422 naming
the upload's field with the screen's stable code; an upload that waited too long for memory is a 503.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import asyncpg

from service.documents import store
from service.errors import TooLarge, Unavailable, invalid_field
from service.memory_budget import MemoryBudgetExhausted
from service.runtime import DECODE_PATIENCE, Runtime
from service.settings import Settings
from service.vault import OwnerCipher
from service.vault.labels import VaultField
from verification.errors import InvalidValue
from verification.uploads import (
    IMAGE_KINDS,
    UploadKind,
    UploadLimits,
    inspect_upload,
    sanitize_image,
    screening_memory,
)

T = TypeVar("T")

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


def document_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(max_decoded_bytes=settings.upload_max_decoded_bytes)


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
    return await screen_with(runtime, data, allowed, document_limits(runtime.settings), field, screen)


async def screen_with(
    runtime: Runtime,
    data: bytes,
    allowed: frozenset[UploadKind],
    limits: UploadLimits,
    field: str,
    work: Callable[[bytes, frozenset[UploadKind], UploadLimits], T],
) -> T:
    """Run ``work`` (a synchronous screen that decodes no more than ``screening_memory`` says) on the CPU pool
    within the decode memory budget, turning its refusals into problems naming ``field``."""
    budget = runtime.decode_memory
    try:
        memory = await asyncio.get_running_loop().run_in_executor(runtime.cpu, screening_memory, data, allowed, limits)
        return await budget.run(runtime.cpu, min(memory, budget.capacity), work, data, allowed, limits)
    except InvalidValue as exc:
        if exc.code == "upload_too_large":
            raise TooLarge(exc.code, exc.message) from None
        raise invalid_field(field, exc.code, exc.message) from None
    except MemoryBudgetExhausted:
        raise Unavailable(
            "uploads_busy",
            "Too many uploads are being checked right now; please try again shortly",
            retry_after=round(DECODE_PATIENCE),
        ) from None


async def keep(conn: asyncpg.Connection, cipher: OwnerCipher, screened: ScreenedDocument) -> UUID:
    """Store a screened document sealed under its owner's key; returns its id."""
    document_id = uuid.uuid4()
    await store.insert(
        conn,
        document_id=document_id,
        account_id=cipher.owner_id,
        kind=screened.kind,
        content=cipher.seal(VaultField.DOCUMENT_CONTENT, screened.content),
        byte_size=len(screened.content),
        width=screened.width,
        height=screened.height,
    )
    return document_id
