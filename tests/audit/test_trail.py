"""The audit trail: complete, hash-chained, append-only, and checked by `idv audit verify`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.audit import Actor, AuditEntry
from service.audit.chain import canonical_text, record_checkpoint, verify
from service.audit.store import chained_entry
from service.runtime import Runtime
from tests.helpers import STRONG_PASSWORD, enrolled_operator, register

ROOT = Path(__file__).resolve().parents[2]


async def append(runtime: Runtime, conn: asyncpg.Connection, n: int) -> None:
    for i in range(n):
        await runtime.audit.append(
            conn, AuditEntry(Actor.system("tests"), "test.entry", "case", str(uuid.uuid4()), {"i": i})
        )


async def test_registration_sign_in_and_failures_are_audited(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    body = await register(client)
    account = body["account_id"]
    await client.post("/v1/sessions", json={"identifier": "bruce@example.com", "password": "wrong-password-123"})
    await client.post("/v1/sessions", json={"identifier": "nobody@example.com", "password": "wrong-password-123"})
    await client.post("/v1/sessions", json={"identifier": "bruce@example.com", "password": STRONG_PASSWORD})
    rows = await db.fetch("SELECT actor_type, actor_id, action, target_id, details FROM audit_log ORDER BY at, id")
    seen = [(r["actor_type"], r["action"], r["target_id"]) for r in rows]
    assert seen == [
        ("user", "account.state_changed", account),
        ("anonymous", "session.sign_in_failed", account),
        ("anonymous", "session.sign_in_failed", ""),
        ("user", "session.signed_in", account),
    ]
    # Pseudonymous ids and codes only: no e-mail address, name or password anywhere.
    text = " ".join(r["details"] + r["target_id"] + r["actor_id"] for r in rows)
    for secret in ("bruce", "李小龙", STRONG_PASSWORD, "wrong-password"):
        assert secret not in text


async def test_client_addresses_are_sealed_and_readable_with_the_key(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await register(client)
    await client.post("/v1/sessions", json={"identifier": "bruce@example.com", "password": STRONG_PASSWORD})
    row = await db.fetchrow("SELECT at, origin FROM audit_log WHERE action = 'session.signed_in'")
    assert row is not None and b"203.0.113.10" not in row["origin"]
    origin = await runtime.audit.open_origin(db, row["origin"])
    assert origin.client_address == "203.0.113.10"


async def test_concurrent_writers_take_different_chains_and_every_chain_verifies(
    runtime: Runtime, database_url: str
) -> None:
    connections = [await asyncpg.connect(database_url) for _ in range(6)]
    try:
        transactions = [conn.transaction() for conn in connections]
        for tx in transactions:
            await tx.start()
        # Six transactions hold an entry each at the same moment: none waits for another.
        await asyncio.wait_for(asyncio.gather(*(append(runtime, conn, 3) for conn in connections)), timeout=10)
        # Uncommitted, each transaction sees only its own entries: all on one chain of its own.
        chains = [
            await conn.fetchval("SELECT array_agg(DISTINCT chain) FROM audit_log WHERE action = 'test.entry'")
            for conn in connections
        ]
        for tx in transactions:
            await tx.commit()
    finally:
        for conn in connections:
            await conn.close()
    assert all(len(c) == 1 for c in chains) and len({c[0] for c in chains}) == 6
    async with runtime.database.connection() as conn:
        report = await verify(conn)
    assert report.intact and report.entries >= 18


async def test_python_and_postgresql_agree_on_the_canonical_text(runtime: Runtime, db: asyncpg.Connection) -> None:
    async with runtime.database.transaction() as conn:
        await append(runtime, conn, 2)
        await runtime.audit.append(
            conn,
            AuditEntry(
                Actor.operator(uuid.uuid4(), "198.51.100.7", "console"),
                "case.decided",
                "case",
                str(uuid.uuid4()),
                {"reason_code": "name_mismatch", "note": 'line\nbreak \u2028 "quoted"'},
                before_hash=b"\x01" * 32,
                after_hash=b"\x02" * 32,
            ),
        )
    for row in await db.fetch("SELECT *, audit_canonical(a) AS sql_text FROM audit_log a"):
        assert canonical_text(chained_entry(row)) == row["sql_text"]


async def test_the_service_role_cannot_rewrite_the_trail(runtime: Runtime, db: asyncpg.Connection) -> None:
    async with runtime.database.transaction() as conn:
        await append(runtime, conn, 1)
    for statement in (
        "UPDATE audit_log SET action = 'x.y'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE audit_chains SET genesis = ''",
        "INSERT INTO audit_chains VALUES (99, '')",
        "DELETE FROM audit_checkpoints",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.execute(statement)


def run_verify(owner_database_url: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": owner_database_url, "IDV_STATE_DIR": str(state_dir), "IDV_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_verify_finds_a_row_a_superuser_edited(
    client: httpx.AsyncClient, runtime: Runtime, owner_db: asyncpg.Connection, owner_database_url: str, tmp_path: Path
) -> None:
    await register(client)
    login = await enrolled_operator(runtime, client, "admin")
    await client.get("/v1/operator/operators", headers=login.headers)
    async with runtime.database.transaction() as conn:
        await append(runtime, conn, 5)

    clean = await asyncio.to_thread(run_verify, owner_database_url, tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "every chain is intact" in clean.stdout

    # A superuser can get past the trigger; the chain still shows what they did.
    victim = await owner_db.fetchrow("SELECT id, chain, seq FROM audit_log WHERE action = 'operator.signed_in'")
    assert victim is not None
    await owner_db.execute("SET session_replication_role = replica")
    await owner_db.execute("UPDATE audit_log SET actor_id = 'someone-else' WHERE id = $1", victim["id"])
    await owner_db.execute("SET session_replication_role = DEFAULT")

    broken = await asyncio.to_thread(run_verify, owner_database_url, tmp_path)
    assert broken.returncode == 1
    assert f"BROKEN: chain {victim['chain']}, seq {victim['seq']} (entry id {victim['id']})" in broken.stdout
    assert "edited" in broken.stdout


async def test_verify_finds_removed_entries(
    runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    async with runtime.database.transaction() as conn:
        await append(runtime, conn, 4)
    report = await verify(db)
    assert report.intact
    await record_checkpoint(db, report)

    await owner_db.execute("SET session_replication_role = replica")
    await owner_db.execute("DELETE FROM audit_log WHERE seq = 2")
    report = await verify(owner_db)
    assert report.broken is not None and "missing" in report.broken.problem

    # Removing the newest entries leaves no gap; the last checkpoint still knows.
    await owner_db.execute("DELETE FROM audit_log WHERE seq >= 2")
    report = await verify(owner_db)
    assert report.broken is not None and report.broken.entry_id is None and "removed" in report.broken.problem


async def test_entries_point_at_nothing_that_erasure_removes(db: asyncpg.Connection) -> None:
    # Targets and actors are ids in text, not foreign keys: erasing an account or an operator
    # cannot cascade into the trail or be blocked by it.
    foreign_keys = await db.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'audit_log'::regclass AND contype = 'f'"
    )
    assert foreign_keys == 0
