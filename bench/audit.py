"""Audit-trail append throughput under concurrent writers, against a plain insert, in one run.

    .venv/bin/python bench/audit.py [--seconds 10] [--writers 16]

Each writer is one connection running one transaction per entry, as a request does. Three
runs, all on this machine, same cores, same PostgreSQL, same row width and values:
  1. plain: INSERT into a table shaped like audit_log, with no trigger and no chain;
  2. audit: AuditTrail.append, i.e. the real code path: sealed origin, one of 16 hash chains;
  3. audit, one chain: the same trigger told to use one chain, to show what a single hash
     chain would cost (every writer queues behind one chain's lock).
Prints entries/s for each and the ratios. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from service.audit import Actor, AuditEntry
from service.audit.chain import verify
from service.audit.entries import canonical_json
from service.database import migrations
from service.database.embedded import EmbeddedPostgres
from service.database.local import prepare_embedded
from service.runtime import Runtime
from service.settings import load_settings

PLAIN_TABLE = """
CREATE TABLE audit_plain (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain smallint NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL,
    actor_type text NOT NULL, actor_id text NOT NULL, action text NOT NULL,
    target_type text NOT NULL, target_id text NOT NULL, origin bytea,
    before_hash bytea, after_hash bytea, details text NOT NULL,
    prev_hash bytea NOT NULL, hash bytea NOT NULL
);
CREATE INDEX audit_plain_target_idx ON audit_plain (target_type, target_id, at);
CREATE INDEX audit_plain_actor_idx ON audit_plain (actor_type, actor_id, at);
GRANT SELECT, INSERT ON audit_plain TO idv_service;
"""


def link_function(chains: int) -> str:
    """Migration 0004's linking trigger function, with its number of chains replaced."""
    sql = next(m.sql for m in migrations.discover() if m.version == 4)
    start = sql.index("CREATE FUNCTION audit_link()")
    text = sql[start : sql.index("$$;", start) + 3]
    assert "chains CONSTANT integer := 16" in text
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace(
        "chains CONSTANT integer := 16", f"chains CONSTANT integer := {chains}"
    )


def entry() -> AuditEntry:
    return AuditEntry(
        Actor.operator(uuid.uuid4(), "198.51.100.23", "Mozilla/5.0 (X11; Linux x86_64) console/1.0"),
        "case.decided",
        "case",
        str(uuid.uuid4()),
        {"decision": "approve", "reason_code": "evidence_consistent"},
        before_hash=os.urandom(32),
        after_hash=os.urandom(32),
    )


async def drive(
    pool: asyncpg.Pool, writers: int, seconds: float, write: Callable[[asyncpg.Connection], Awaitable[None]]
) -> float:
    deadline = time.perf_counter() + seconds
    counts = [0] * writers

    async def writer(i: int) -> None:
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                async with conn.transaction():
                    await write(conn)
                counts[i] += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(i) for i in range(writers)))
    return sum(counts) / (time.perf_counter() - started)


async def measure(service_dsn: str, owner_dsn: str, state: Path, writers: int, seconds: float, rounds: int) -> None:
    env = {
        "IDV_ENV": "development",
        "IDV_STATE_DIR": str(state),
        "IDV_MASTER_KEYS": "bench-1:" + base64.b64encode(os.urandom(32)).decode(),
        "IDV_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        "IDV_LOG_LEVEL": "WARNING",
    }
    settings = load_settings(env)
    owner = await asyncpg.connect(owner_dsn)
    try:
        await migrations.migrate(owner, migrations.discover())
        await owner.execute(PLAIN_TABLE)
    finally:
        await owner.close()

    async with Runtime.open(settings, service_dsn, apply_migrations=False, pool_size=writers) as runtime:
        pool = runtime.database.pool
        trail = runtime.audit

        async def plain(conn: asyncpg.Connection) -> None:
            e = entry()
            await conn.execute(
                """INSERT INTO audit_plain (chain, seq, at, actor_type, actor_id, action, target_type, target_id,
                                            origin, before_hash, after_hash, details, prev_hash, hash)
                   VALUES (0, 0, clock_timestamp(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
                e.actor.kind.value,
                e.actor.id,
                e.action,
                e.target_type,
                e.target_id,
                await trail.seal_origin(e),
                e.before_hash,
                e.after_hash,
                canonical_json(e.details),
                os.urandom(32),
                os.urandom(32),
            )

        async def chained(conn: asyncpg.Connection) -> None:
            await trail.append(conn, entry())

        await drive(pool, writers, 2, plain)  # warm-up
        await drive(pool, writers, 2, chained)
        # Alternating rounds, medians: commits wait on the disk, whose speed drifts over a run.
        plain_rates, audit_rates = [], []
        for _ in range(rounds):
            plain_rates.append(await drive(pool, writers, seconds, plain))
            audit_rates.append(await drive(pool, writers, seconds, chained))
        plain_rate, audit_rate = statistics.median(plain_rates), statistics.median(audit_rates)

        owner = await asyncpg.connect(owner_dsn)
        try:
            # The same trigger told there is one chain, for this run only.
            await owner.execute(link_function(chains=1))
            single_rate = await drive(pool, writers, seconds, chained)
            await owner.execute(link_function(chains=16))
            report = await verify(owner)
        finally:
            await owner.close()

    print(
        f"writers: {writers} connections, one transaction per entry, {rounds} alternating rounds of "
        f"{seconds:.0f} s (medians), {os.cpu_count()} cores"
    )
    print("rounds, plain:", *(f"{r:.0f}" for r in plain_rates), "; audit:", *(f"{r:.0f}" for r in audit_rates))
    print(f"plain insert, same width:       {plain_rate:8.0f} entries/s")
    print(f"audit append, 16 hash chains:   {audit_rate:8.0f} entries/s   ratio to plain {audit_rate / plain_rate:.2f}")
    print(
        f"audit append, 1 hash chain:     {single_rate:8.0f} entries/s   ratio to plain {single_rate / plain_rate:.2f}"
    )
    print(f"chains verified after the runs: {'intact' if report.intact else report.broken} ({report.entries} entries)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="idv-bench-audit-"))
    scratch.chmod(0o755)
    server = EmbeddedPostgres(scratch / "pg").start()
    try:
        asyncio.run(prepare_embedded(server, "bench"))
        asyncio.run(
            measure(
                server.service_dsn("bench"),
                server.dsn("bench"),
                scratch / "state",
                args.writers,
                args.seconds,
                args.rounds,
            )
        )
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
