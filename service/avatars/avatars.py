"""Putting, showing and removing one's avatar.

An avatar is screened exactly as a qualification document is (service.documents.intake: size, kind by magic
bytes, declared pixels, bit depth and decode memory, all checked before anything decodes, then decoded within
the process's decode memory budget), and is then re-encoded from the centre square of its pixels, scaled down to
``AVATAR_SIDE``: no metadata (EXIF GPS positions included) survives. It is sealed under the account's key.

One upload per account runs at a time in a process: a second one is refused before its body is read, so one
person cannot hold several decodes at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from service.audit import Actor, AuditEntry
from service.avatars import store
from service.documents.intake import screen_with
from service.errors import Conflict, NotFound
from service.runtime import Runtime
from service.vault.labels import VaultField
from verification.uploads import IMAGE_KINDS, SanitizedImage, UploadKind, UploadLimits, avatar_image
from verification.uploads.limits import MIB

AVATAR_SIDE = 512
AVATAR_FIELD = VaultField.AVATAR_CONTENT
AVATAR_MAX_BYTES = 5 * MIB
# What the HTTP layer lets through before the screen (which refuses above AVATAR_MAX_BYTES with a clear code):
# a little more, so the screen is what answers; anything larger is refused by the server as it streams in.
MAX_AVATAR_BODY = AVATAR_MAX_BYTES + 64 * 1024

_uploading: set[UUID] = set()


@dataclass(frozen=True, slots=True)
class Avatar:
    kind: str
    content: bytes
    side: int
    updated_at: datetime

    @property
    def media_type(self) -> str:
        return UploadKind(self.kind).media_type


def avatar_limits(runtime: Runtime) -> UploadLimits:
    return UploadLimits(max_bytes=AVATAR_MAX_BYTES, max_decoded_bytes=runtime.settings.upload_max_decoded_bytes)


def _square(data: bytes, allowed: frozenset[UploadKind], limits: UploadLimits) -> SanitizedImage:
    return avatar_image(data, limits, AVATAR_SIDE)


@contextlib.contextmanager
def _one_upload_at_a_time(account_id: UUID) -> Iterator[None]:
    if account_id in _uploading:
        raise Conflict("avatar_upload_under_way", "Another picture is being uploaded; wait for it to finish")
    _uploading.add(account_id)
    try:
        yield
    finally:
        _uploading.discard(account_id)


async def put_avatar(
    runtime: Runtime, account_id: UUID, read_body: Callable[[], Awaitable[bytes]], actor: Actor
) -> Avatar:
    with _one_upload_at_a_time(account_id):
        # Screening runs outside any transaction: it takes a while, on the CPU pool.
        image = await screen_with(runtime, await read_body(), IMAGE_KINDS, avatar_limits(runtime), "avatar", _square)
        async with runtime.database.transaction() as conn:
            cipher = await runtime.vault.open(conn, account_id)
            sealed = cipher.seal(AVATAR_FIELD, image.data)
            updated_at = await store.put(conn, account_id, image.kind.value, sealed, len(image.data), image.width)
            details = {"kind": image.kind.value, "byte_size": len(image.data), "side": image.width}
            entry = AuditEntry(actor, "account.avatar_set", "account", str(account_id), details)
            await runtime.audit.append(conn, entry)
    return Avatar(image.kind.value, image.data, image.width, updated_at)


async def get_avatar(runtime: Runtime, account_id: UUID) -> Avatar:
    async with runtime.database.transaction() as conn:
        stored = await store.get(conn, account_id)
        if stored is None:
            raise _no_avatar()
        cipher = await runtime.vault.open(conn, account_id)
    return Avatar(stored.kind, cipher.open(AVATAR_FIELD, stored.content), stored.side, stored.updated_at)


async def remove_avatar(runtime: Runtime, account_id: UUID, actor: Actor) -> None:
    async with runtime.database.transaction() as conn:
        if not await store.delete(conn, account_id):
            raise _no_avatar()
        await runtime.audit.append(conn, AuditEntry(actor, "account.avatar_removed", "account", str(account_id)))


def _no_avatar() -> NotFound:
    return NotFound("avatar_not_found", "No picture has been set")
