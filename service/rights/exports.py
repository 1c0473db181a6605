"""Exporting everything held about a person as one machine-readable JSON archive.

Asked for after re-entering the password; built by a job (an account with years of sessions and
cases can be large), sealed under the person's key, downloadable until it expires. Sealed values
are opened for the archive: it is the person's own data. Face templates and raw images are not
included (they are not kept, or are kept only under a separate key for matching).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.accounts import store as accounts
from service.audit import Actor, AuditEntry
from service.cases.catalogue import user_message
from service.guardians import store as guardians
from service.http.problems import ProblemError
from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition
from service.rights import store
from service.runtime import Runtime
from service.sessions.reauthentication import confirm_password
from service.sessions.sessions import Principal
from service.vault import OwnerCipher

BUILD_JOB = "rights.build_export"
FORMAT = "idv-export/1"

# (section, column) -> the vault field the column is sealed under, given its row.
SEALED: dict[tuple[str, str], Callable[[asyncpg.Record], str]] = {
    ("contacts", "address"): lambda row: f"contact.{row['kind']}",
    ("sessions", "client_address"): lambda _: "session.client_address",
    ("sessions", "user_agent"): lambda _: "session.user_agent",
    ("real_name_verifications", "legal_name"): lambda _: "realname.legal_name",
    ("real_name_verifications", "id_number"): lambda _: "realname.id_number",
    ("real_name_verifications", "birth_date"): lambda _: "realname.birth_date",
    **{
        ("qualifications", name): (lambda field: lambda _: f"qualification.{field}")(name)
        for name in ("organization_name", "credit_code", "job_title", "work_email")
    },
}


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


def _rows(cipher: OwnerCipher, name: str, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item = dict(row)
        for column, value in item.items():
            field = SEALED.get((name, column))
            if field is not None and value is not None:
                item[column] = cipher.open_text(field(row), value)
        if name == "cases":
            item["message"] = user_message(item.pop("reason_code"))
        out.append(item)
    return out


async def build_archive(conn: asyncpg.Connection, cipher: OwnerCipher, account_id: UUID) -> bytes:
    profile = await accounts.fetch_profile(conn, account_id)
    if profile is None:
        raise ProblemError(404, "account_not_found", "No such account")
    archive: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": datetime.now(UTC),
        "account": {
            "account_id": account_id,
            "state": profile["state"],
            "created_at": profile["created_at"],
            "display_name": cipher.open_text("account.display_name", profile["display_name"]),
            "username": cipher.open_optional("account.username", profile["username"]),
            "birth_date": cipher.open_text("account.birth_date", profile["birth_date"]),
            "totp_enabled": profile["totp_enabled"],
        },
    }
    for name in store.SECTIONS:
        archive[name] = _rows(cipher, name, await store.section(conn, name, account_id))
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
        if row is None or row["status"] != "preparing":
            return
        cipher = await runtime.vault.open(conn, row["account_id"])
        archive = await build_archive(conn, cipher, row["account_id"])
        expires_at = datetime.now(UTC) + runtime.settings.export_lifetime
        await store.mark_ready(conn, export_id, cipher.seal("rights.export", archive), expires_at)


async def download(runtime: Runtime, requester: UUID, export_id: UUID) -> bytes:
    async with runtime.database.transaction() as conn:
        row = await store.for_requester(conn, requester, export_id)
        # The right to a ward's data is checked now, not when the archive was asked for: a guardian
        # who revoked, was refused or whose ward came of age downloads nothing (the same answer as
        # for an export that does not exist).
        if (
            row is None
            or row["status"] != "ready"
            or (
                row["account_id"] != requester
                and not await guardians.guardian_in_force(conn, row["account_id"], requester)
            )
        ):
            raise ProblemError(404, "export_not_ready", "No such export ready for download (expired?)")
        cipher = await runtime.vault.open(conn, row["account_id"])
        await store.mark_downloaded(conn, export_id)
        details = {"requested_by": str(requester)}
        entry = AuditEntry(
            Actor.user(requester), "rights.export_downloaded", "account", str(row["account_id"]), details
        )
        await runtime.audit.append(conn, entry)
    return cipher.open("rights.export", row["archive"])


async def exports_of(runtime: Runtime, requester: UUID) -> list[ExportView]:
    """The exports this account asked for (of its own data or a ward's)."""
    async with runtime.database.connection() as conn:
        rows = await store.requested_by(conn, requester)
    return [
        ExportView(
            r["id"], r["account_id"], r["status"], r["requested_at"], r["ready_at"], r["expires_at"], r["downloaded_at"]
        )
        for r in rows
    ]


def build_job(runtime: Runtime) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        await build(runtime, msgspec.json.decode(payload or b"", type=BuildExport).export_id)

    return JobDefinition(BUILD_JOB, run, max_attempts=5)
