"""Exporting everything held about a person as one machine-readable JSON archive.

Asked for after re-entering the password; built by a job (an account with years of sessions and
cases can be large), sealed under the person's key, downloadable until it expires. Sealed values
are opened for the archive: it is the person's own data. Face templates and raw images are not
included (they are not kept, or are kept only under a separate key for matching).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.accounts import store as accounts
from service.audit import Actor, AuditEntry
from service.audit.trail import origin_key_owner
from service.cases.catalogue import user_message
from service.errors import NotFound
from service.face.keys import biometric_key_owner
from service.guardians import store as guardians
from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition
from service.lifecycle import personal_data
from service.lifecycle.personal_data import Key, PersonalData, Sealed, Shape
from service.rights import store
from service.rights.store import ExportStatus
from service.runtime import Runtime
from service.sessions.reauthentication import confirm_password
from service.sessions.sessions import Principal
from service.vault import DataKeyDestroyed, OwnerCipher, Vault
from service.vault.labels import VaultField, sealed_field

BUILD_JOB = "rights.build_export"
FORMAT = "idv-export/1"


class BuildExport(msgspec.Struct, frozen=True):
    export_id: UUID


class ExportView(msgspec.Struct):
    export_id: UUID
    # Whose data it is: one's own, or a ward's.
    subject_account_id: UUID
    status: str
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    downloaded_at: datetime | None


class _Keys:
    """The keys an archive opens: the person's own, and those of their biometric data and of the
    audit months their entries were sealed in (None when destroyed: that data is gone)."""

    def __init__(self, conn: asyncpg.Connection, vault: Vault, own: OwnerCipher) -> None:
        self._conn = conn
        self._vault = vault
        self._opened: dict[UUID, OwnerCipher | None] = {own.owner_id: own}
        self._own = own.owner_id

    async def cipher(self, sealed: Sealed, row: asyncpg.Record, value: bytes) -> tuple[OwnerCipher | None, bytes]:
        if sealed.key is Key.BIOMETRIC:
            owner = biometric_key_owner(row["verification_id"])
        elif sealed.key is Key.AUDIT_MONTH:
            # The month travels with the value (audit.trail).
            owner, value = origin_key_owner(value[:7].decode()), value[7:]
        else:
            owner = self._own
        if owner not in self._opened:
            try:
                self._opened[owner] = await self._vault.open(self._conn, owner)
            except DataKeyDestroyed:
                self._opened[owner] = None
        return self._opened[owner], value


async def _open(keys: _Keys, sealed: Sealed, row: asyncpg.Record, value: bytes) -> Any:
    cipher, body = await keys.cipher(sealed, row, value)
    if cipher is None:
        return None
    opened = cipher.open(sealed_field(sealed.field_for(dict(row))), body)
    if sealed.shape is Shape.TEXT:
        return opened.decode()
    if sealed.shape is Shape.JSON:
        decoded = msgspec.json.decode(opened)
        return {k: v for k, v in decoded.items() if k not in sealed.omit} if isinstance(decoded, dict) else decoded
    return opened  # bytes: base64 in the archive


async def _section(
    conn: asyncpg.Connection, keys: _Keys, entry: PersonalData, account_id: UUID
) -> list[dict[str, Any]]:
    assert entry.export is not None
    out = []
    for row in await conn.fetch(entry.export, account_id):
        item = dict(row)
        for column, sealed in entry.sealed.items():
            value = item.get(column)
            # NULL or blanked (b''): nothing is held any more.
            item[column] = await _open(keys, sealed, row, value) if value else None
        for column in entry.json:
            item[column] = msgspec.json.decode(item[column])
        if "reason_code" in item and entry.table == "review_cases":
            item["message"] = user_message(item.pop("reason_code"))
        out.append(item)
    return out


async def build_archive(conn: asyncpg.Connection, vault: Vault, cipher: OwnerCipher, account_id: UUID) -> bytes:
    """One section per entry of the personal-data registry: everything held about the person."""
    if await accounts.fetch_profile(conn, account_id) is None:
        raise NotFound("account_not_found", "No such account")
    keys = _Keys(conn, vault, cipher)
    archive: dict[str, Any] = {"format": FORMAT, "generated_at": datetime.now(UTC)}
    for entry in personal_data.EXPORTED:
        rows = await _section(conn, keys, entry, account_id)
        archive[entry.section] = (rows[0] if rows else None) if entry.single else rows
    return msgspec.json.encode(archive)


async def request_export(
    runtime: Runtime, principal: Principal, password: str, client_address: str, subject: UUID | None = None
) -> ExportView:
    """An export of one's own data, or (``subject``) of a ward's, which the caller has checked."""
    await confirm_password(runtime, principal, password, client_address)
    export_id = uuid.uuid4()
    subject = subject or principal.account_id
    async with runtime.database.transaction() as conn:
        await store.insert(conn, export_id, subject, principal.account_id)
        await enqueue(conn, BUILD_JOB, BuildExport(export_id))
        actor = Actor.user(principal.account_id, client_address)
        details = {"requested_by": str(principal.account_id)}
        await runtime.audit.append(conn, AuditEntry(actor, "rights.export_requested", "account", str(subject), details))
    return (await exports_of(runtime, principal.account_id))[0]


async def build(runtime: Runtime, export_id: UUID) -> None:
    async with runtime.database.transaction() as conn:
        row = await store.lock(conn, export_id)
        if row is None or row.status is not ExportStatus.PREPARING:
            return
        cipher = await runtime.vault.open(conn, row.account_id)
        archive = await build_archive(conn, runtime.vault, cipher, row.account_id)
        expires_at = datetime.now(UTC) + runtime.settings.export_lifetime
        await store.mark_ready(conn, export_id, cipher.seal(VaultField.RIGHTS_EXPORT, archive), expires_at)


async def download(runtime: Runtime, requester: UUID, export_id: UUID) -> bytes:
    async with runtime.database.transaction() as conn:
        row = await store.for_requester(conn, requester, export_id)
        # The right to a ward's data is checked now, not when the archive was asked for: a guardian
        # who revoked, was refused or whose ward came of age downloads nothing (the same answer as
        # for an export that does not exist).
        if (
            row is None
            or row.status is not ExportStatus.READY
            or (row.account_id != requester and not await guardians.guardian_in_force(conn, row.account_id, requester))
        ):
            raise NotFound("export_not_ready", "No such export ready for download (expired?)")
        cipher = await runtime.vault.open(conn, row.account_id)
        await store.mark_downloaded(conn, export_id)
        details = {"requested_by": str(requester)}
        entry = AuditEntry(Actor.user(requester), "rights.export_downloaded", "account", str(row.account_id), details)
        await runtime.audit.append(conn, entry)
    assert row.archive is not None  # a ready export has its archive (a CHECK constraint)
    return cipher.open(VaultField.RIGHTS_EXPORT, row.archive)


async def exports_of(runtime: Runtime, requester: UUID) -> list[ExportView]:
    """The exports this account asked for (of its own data or a ward's)."""
    async with runtime.database.connection() as conn:
        rows = await store.requested_by(conn, requester)
    return [
        ExportView(r.id, r.account_id, r.status, r.requested_at, r.ready_at, r.expires_at, r.downloaded_at)
        for r in rows
    ]


def build_job(runtime: Runtime) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        await build(runtime, msgspec.json.decode(payload or b"", type=BuildExport).export_id)

    return JobDefinition(BUILD_JOB, run, max_attempts=5)
