"""The retention schedule: periods from configuration, a report of what is due, a purge that
removes exactly that."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.audit.trail import origin_key_owner
from service.lifecycle.retention import BY_NAME, own_clocks, purge, report
from service.runtime import Runtime
from service.settings import RETENTION_CATEGORIES, SettingsError, load_settings
from service.vault import DataKeyDestroyed
from tests.arrange.lifecycle import terminate
from tests.arrange.people import ZHANG_SAN, person
from tests.conftest import environment_for_tests
from tests.helpers import bearer, register


def test_settings_name_every_category_and_refuse_unknown_ones(tmp_path: Path) -> None:
    assert frozenset(BY_NAME) == RETENTION_CATEGORIES
    settings = load_settings(environment_for_tests(tmp_path, IDV_RETENTION="sessions=30d, one_time_codes=2h"))
    assert settings.retention == {"sessions": timedelta(days=30), "one_time_codes": timedelta(hours=2)}
    in_years = load_settings(environment_for_tests(tmp_path, IDV_RETENTION="legal_hold=5y,closed_case_evidence=3y"))
    assert in_years.retention == {"legal_hold": timedelta(days=5 * 365), "closed_case_evidence": timedelta(days=1095)}
    with pytest.raises(SettingsError, match="not a duration"):
        load_settings(environment_for_tests(tmp_path, IDV_RETENTION="legal_hold=3 years"))
    with pytest.raises(SettingsError, match="unknown category 'selfies'"):
        load_settings(environment_for_tests(tmp_path, IDV_RETENTION="selfies=1d"))


async def test_old_sessions_and_codes_are_purged_and_live_ones_kept(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    body = await register(client)
    me = bearer(body["session"]["token"])
    old = await register(client, email="old@example.com", username="old_one", phone=None)
    await client.delete("/v1/sessions/current", headers=bearer(old["session"]["token"]))
    await db.execute("UPDATE sessions SET ended_at = now() - interval '91 days' WHERE ended_at IS NOT NULL")
    await db.execute("UPDATE one_time_codes SET expires_at = now() - interval '2 days'")

    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["sessions"] == 1 and due["one_time_codes"] == 3  # e-mail and SMS, and the old one's e-mail
    purged = await purge(runtime)
    assert (purged["sessions"], purged["one_time_codes"]) == (1, 3)
    assert (await client.get("/v1/sessions/whoami", headers=me)).status_code == 200
    assert all(line.due_now == 0 for line in await report(db, runtime.settings.retention))


async def test_audit_origins_end_with_their_month_key_and_the_entries_stay(
    runtime: Runtime, db: asyncpg.Connection
) -> None:
    old, current = "2025-01", datetime.now(UTC).strftime("%Y-%m")
    for month in (old, current):
        cipher = await runtime.vault.open_or_create(db, origin_key_owner(month))
        origin = month.encode() + cipher.seal("audit.origin", b'{"client_address":"198.51.100.7"}')
        await db.execute(
            """INSERT INTO audit_log (chain, seq, at, actor_type, actor_id, action, target_type, target_id, origin,
                                      details, prev_hash, hash)
               VALUES (0, 0, now(), 'anonymous', '', 'account.sign_in_failed', '', '', $1, '{}', '', '')""",
            origin,
        )
    await db.execute("UPDATE data_keys SET created_at = '2024-12-20' WHERE owner_id = $1", origin_key_owner(old))
    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["audit_origins"] == 1
    assert (await purge(runtime))["audit_origins"] == 1
    with pytest.raises(DataKeyDestroyed):
        await runtime.vault.open(db, origin_key_owner(old))
    await runtime.vault.open(db, origin_key_owner(current))  # this month's stays
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE origin IS NOT NULL") == 2
    assert (await purge(runtime))["audit_origins"] == 0


async def test_terminated_accounts_are_erased_when_their_period_ends(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    account_id, _ = await person(client, runtime, identity=ZHANG_SAN)
    kept_id, _ = await person(client, runtime)
    await terminate(client, runtime, account_id, "false_information")
    await terminate(client, runtime, kept_id, "abuse")
    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["terminated_accounts"] == 0
    # Three years pass for the first (the state history is append-only: only its owner can move it).
    async with owner_db.transaction():
        await owner_db.execute("SET LOCAL session_replication_role = replica")
        await owner_db.execute(
            "UPDATE account_state_changes SET at = at - interval '1096 days' WHERE account_id = $1", account_id
        )
    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["terminated_accounts"] == 1
    assert (await purge(runtime))["terminated_accounts"] == 1
    states = dict(await db.fetch("SELECT id, state FROM accounts WHERE id = ANY($1)", [account_id, kept_id]))
    assert states == {account_id: "erased", kept_id: "terminated"}
    ledger = await db.fetch("SELECT account_id, reason FROM erasure_ledger WHERE category = 'account'")
    assert [tuple(r) for r in ledger] == [(account_id, "retention_ended")]
    # The identity bar is not part of the account: it keeps its own period.
    assert await db.fetchval("SELECT count(*) FROM identity_bars") == 1


async def test_the_report_gives_every_kind_of_personal_data_a_period_and_a_job(
    runtime: Runtime, db: asyncpg.Connection
) -> None:
    lines = await report(db, runtime.settings.retention) + await own_clocks(db, runtime.settings)
    by_name = {line.category: line for line in lines}
    assert set(by_name) >= {
        "audit_origins",
        "terminated_accounts",
        "identity_bars",
        "face_images",
        "documents",
        "exports",
        "guardian_window",
        "legal_hold",
    }
    assert all(line.period >= timedelta(0) and line.ended_by and line.what for line in lines)
    assert by_name["exports"].period == runtime.settings.export_lifetime
    assert by_name["face_images"].ended_by == "face.erase_expired_images"


async def test_guardian_invitations_go_a_while_after_acceptance_or_expiry(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    minor = uuid.UUID((await register(client))["account_id"])
    for expired_ago in ("31 days", "29 days"):
        await db.execute(
            """INSERT INTO guardian_invitations (id, minor_account_id, contact_kind, contact, code_digest, expires_at)
               VALUES ($1, $2, 'email', '\\x00'::bytea, $3, now() - $4::interval)""",
            uuid.uuid4(),
            minor,
            expired_ago.encode(),
            timedelta(days=int(expired_ago.split()[0])),
        )
    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["guardian_invitations"] == 1
    assert (await purge(runtime))["guardian_invitations"] == 1
    assert await db.fetchval("SELECT count(*) FROM guardian_invitations") == 1
