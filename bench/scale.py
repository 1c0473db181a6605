"""Growth (issue 23): request paths and nightly jobs at 10k and 100k accounts (1M with --million).

    .venv/bin/python bench/scale.py [--sizes 10000,100000] [--million] [--samples 200]

For each size, a fresh database on an embedded PostgreSQL this script starts: migrations, then
SEEDED ROWS written in SQL with generate_series as the owner (triggers and foreign-key checks off
while seeding): per account two contacts, three consent events, three sessions (one live), two
one-time codes, three outbox messages, two state changes, six audit entries, and one review case
in four accounts with two evidence items, 40% of the cases open (10k open cases at 100k accounts,
100k at 1M, as the issue asks). Seeded sealed columns are random bytes of a realistic length, not
ciphertext, and the seeded password hash is a fixed placeholder string, not a hash of anything:
nothing seeded is ever decrypted or signed in with. About 1% of every dated row (sessions, codes,
messages, closed cases) and half the accounts in each waiting state (pending verification, awaiting a
guardian, suspended, terminated: 0.5% of accounts each) are older than any retention period, so the
jobs have about 1% of rows due. The seeded audit entries are real hash chains: written in Python on the
sixteen chains with hashes `idv audit verify` recomputes (COPY, the linking trigger off while seeding),
their times spread evenly over the last 700 days, in seq order on each chain; `idv audit verify` is then
run over the whole trail in a process of its own, timed, with its peak memory (it streams: constant).

Twenty people are then registered over the API (argon2 at the tests' cheap cost, so sign-in here
measures the lookups, not the hash; bench/registration.py measures the production cost) and one
operator enrolled; the request paths are timed in process (httpx over ASGI, no network) on them:
whoami, `GET /v1/me`, sign-in, and the operator queue unfiltered and with each filter. The jobs
are timed on the service's own connection: each retention category's count, each plain-SQL purge
(in a transaction rolled back, so every size purges the same 1%), the unverified and terminated
accounts' counts (the erasure job's selection) and the guardian window (the minors' job), with JIT
on and off. Then database bytes per account, and the ratio of the largest size to the smallest.
A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pyotp

from service.accounts import store as accounts
from service.accounts.reasons import WITHOUT_GUARDIAN_REASONS
from service.app import create_asgi
from service.audit import Actor
from service.audit.chain import genesis
from service.cases import store as cases
from service.database import migrations
from service.database.embedded import EmbeddedPostgres
from service.database.local import prepare_embedded
from service.guardians.store import MINORS_PAST_WINDOW
from service.lifecycle import retention
from service.operators.enrolment import create_operator
from service.operators.roles import Role
from service.runtime import Runtime
from service.settings import load_settings

PASSWORD = "violet-harbour-tractor-91"
PEOPLE = 20
# 1% of dated rows are this old: past every retention period; the rest are younger than any.
OLD = "2000 days"
RECENT_HOURS = 144  # six days: younger than every period but the one-time codes' day (theirs: 20 hours)


SEED = f"""
SET session_replication_role = replica;
INSERT INTO data_keys (owner_id, master_key_id, wrapped_key, created_at)
    SELECT md5('a' || i)::uuid, 'seeded', decode(repeat(md5(i::text), 4), 'hex') || '\\x0000000000000000'::bytea,
           now() - (i % 700) * interval '1 day'
    FROM generate_series(1, $1) i;
INSERT INTO accounts (id, state, display_name, username, username_index, birth_date, password_hash,
                      created_at, updated_at)
    SELECT md5('a' || i)::uuid,
           CASE WHEN i % 100 = 1 THEN 'pending_verification' WHEN i % 100 = 2 THEN 'suspended'
                WHEN i % 100 = 3 THEN 'awaiting_guardian' WHEN i % 100 = 4 THEN 'terminated'
                WHEN i % 100 = 5 THEN 'erased' ELSE 'active' END,
           decode(repeat(md5('n' || i), 3), 'hex'), decode(repeat(md5('u' || i), 3), 'hex'),
           decode(md5('ui' || i) || md5('ui2' || i), 'hex'), decode(repeat(md5('b' || i), 2), 'hex'),
           'seeded placeholder, not a password hash: $argon2id$v=19$m=65536,t=3,p=4$c2VlZGVk$c2VlZGVk',
           now() - CASE WHEN i % 200 < 10 THEN interval '{OLD}'
                        ELSE (i % {RECENT_HOURS}) * interval '1 hour' END,
           now() - CASE WHEN i % 200 < 10 THEN interval '{OLD}'
                        ELSE (i % {RECENT_HOURS}) * interval '1 hour' END
    FROM generate_series(1, $1) i;
INSERT INTO contacts (account_id, kind, address, address_index, verified_at)
    SELECT md5('a' || i)::uuid, k.kind, decode(repeat(md5(k.kind || i), 4), 'hex'),
           decode(md5('ci' || k.kind || i) || md5('cj' || k.kind || i), 'hex'),
           CASE WHEN i % 100 = 1 THEN NULL ELSE now() - (i % 700) * interval '1 day' END
    FROM generate_series(1, $1) i, (VALUES ('email'), ('phone')) k(kind);
INSERT INTO consent_events (account_id, purpose, policy_version, policy_sha256, action, channel, actor_account_id, at)
    SELECT md5('a' || i)::uuid, p.purpose, '2026-11-01', md5(p.purpose) || md5(p.purpose), 'granted', 'web',
           md5('a' || i)::uuid, now() - (i % 700) * interval '1 day'
    FROM generate_series(1, $1) i, (VALUES ('terms'), ('privacy'), ('identity_data')) p(purpose);
INSERT INTO sessions (id, account_id, token_digest, assurance, created_at, last_seen_at, expires_at, ended_at,
                      end_reason, client_address, user_agent)
    SELECT md5('s' || i || '-' || j)::uuid, md5('a' || i)::uuid,
           decode(md5('t' || i || '-' || j) || md5(j || 't' || i), 'hex'),
           1, s.at, s.at, s.at + interval '30 days', CASE WHEN j = 1 THEN NULL ELSE s.at + interval '1 hour' END,
           CASE WHEN j = 1 THEN NULL ELSE 'signed_out' END,
           decode(repeat(md5('ip' || i), 3), 'hex'), decode(repeat(md5('ua' || i), 8), 'hex')
    FROM generate_series(1, $1) i, generate_series(1, 3) j,
         LATERAL (SELECT now() - CASE WHEN j > 1 AND (i + j) % 100 = 0 THEN interval '{OLD}'
                                      ELSE ((i + j) % {RECENT_HOURS}) * interval '1 hour' END AS at) s;
INSERT INTO one_time_codes (id, account_id, purpose, code_digest, created_at, expires_at, consumed_at)
    SELECT md5('o' || i || '-' || j)::uuid, md5('a' || i)::uuid, 'verify_contact',
           decode(md5('oc' || i || j) || md5(j || 'oc'), 'hex'),
           c.at, c.at + interval '10 minutes', c.at + interval '1 minute'
    FROM generate_series(1, $1) i, generate_series(1, 2) j,
         LATERAL (SELECT now() - CASE WHEN (i + j) % 100 = 0 THEN interval '{OLD}'
                                      ELSE ((i + j) % 20) * interval '1 hour' END AS at) c;
INSERT INTO courier_messages (id, owner_id, channel, template, recipient, variables, status, attempts,
                              created_at, sent_at)
    SELECT md5('m' || i || '-' || j)::uuid, md5('a' || i)::uuid, 'email', 'contact_code',
           decode(repeat(md5('r' || i), 4), 'hex'), decode(repeat(md5('v' || i || j), 6), 'hex'), 'sent', 1, m.at, m.at
    FROM generate_series(1, $1) i, generate_series(1, 3) j,
         LATERAL (SELECT now() - CASE WHEN (i + j) % 100 = 0 THEN interval '{OLD}'
                                      ELSE ((i + j) % {RECENT_HOURS}) * interval '1 hour' END AS at) m;
INSERT INTO account_state_changes (account_id, from_state, to_state, event, actor, reason_code, at)
    SELECT md5('a' || i)::uuid, CASE WHEN j = 1 THEN NULL ELSE 'pending_verification' END,
           CASE WHEN j = 1 THEN 'pending_verification' WHEN i % 100 = 2 THEN 'suspended'
                WHEN i % 100 = 4 THEN 'terminated' ELSE 'active' END,
           CASE WHEN j = 1 THEN 'register' ELSE 'verify' END, 'system',
           CASE WHEN j = 2 AND i % 100 = 2 THEN 'guardian_consent_revoked' END,
           now() - CASE WHEN i % 200 < 10 THEN interval '{OLD}'
                        ELSE (i % {RECENT_HOURS}) * interval '1 hour' END
    FROM generate_series(1, $1) i, generate_series(1, 2) j;
INSERT INTO review_cases (id, case_type, subject_account_id, state, priority, due_at, assignee_id,
                          automated_results, reason_code, created_at, updated_at, closed_at)
    SELECT md5('c' || i)::uuid, CASE WHEN i % 3 = 0 THEN 'face' ELSE 'real_name' END, md5('a' || i)::uuid,
           CASE WHEN i % 40 < 16 THEN 'in_review' ELSE 'approved' END, 1 + i % 4,
           now() + ((i % 20) - 5) * interval '1 day', NULL,
           '[{{"check": "registry", "outcome": "match", "engine": "sandbox-1", "score": 0.97}}]'::jsonb,
           CASE WHEN i % 40 < 16 THEN NULL ELSE 'evidence_consistent' END, c.at, c.at,
           CASE WHEN i % 40 < 16 THEN NULL ELSE c.at END
    FROM generate_series(4, $1, 4) i,
         LATERAL (SELECT now() - CASE WHEN i % 400 = 16 THEN interval '{OLD}'
                                      ELSE (i % {RECENT_HOURS}) * interval '1 hour' END AS at) c;
INSERT INTO review_case_evidence (case_id, name, value, masked, version)
    SELECT md5('c' || i)::uuid, e.name, decode(repeat(md5('e' || e.name || i), 6), 'hex'), '张*', 1
    FROM generate_series(4, $1, 4) i, (VALUES ('legal_name'), ('id_number')) e(name);
SET session_replication_role = origin
"""  # noqa: S608 - built from this file's constants only

AUDIT_COLUMNS = (
    "chain", "seq", "at", "actor_type", "actor_id", "action", "target_type", "target_id", "origin",
    "before_hash", "after_hash", "details", "prev_hash", "hash",
)  # fmt: skip
AUDIT_CHAINS = 16
AUDIT_DAYS = 700
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def audit_batches(size: int, batch: int = 50_000) -> Any:
    """Six entries per account as real chains: the hashes chain.entry_hash computes, without the structs."""
    per_chain = size * 6 // AUDIT_CHAINS
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    first = now - timedelta(days=AUDIT_DAYS)
    step = timedelta(days=AUDIT_DAYS) / per_chain
    for chain in range(AUDIT_CHAINS):
        previous = genesis(chain)
        rows: list[tuple[Any, ...]] = []
        for seq in range(1, per_chain + 1):
            at = first + step * seq
            account = str(uuid.UUID(bytes=hashlib.md5(f"a{seq * AUDIT_CHAINS + chain}".encode()).digest()))  # noqa: S324
            origin = hashlib.sha256(f"or{chain}-{seq}".encode()).digest() * 2
            after = hashlib.sha256(f"h{chain}-{seq}".encode()).digest()
            details = f'{{"assurance":1,"method":"password","session_id":"{uuid.UUID(int=seq << 8 | chain)}"}}'
            micros = (at - EPOCH) // timedelta(microseconds=1)
            text = (
                f"{chain}\n{seq}\n{micros}\nuser\n{account}\nsession.created\naccount\n{account}\n"
                f"{origin.hex()}\n-\n{after.hex()}\n{details}"
            )
            digest = hashlib.sha256(previous + text.encode()).digest()
            rows.append(
                (chain, seq, at, "user", account, "session.created", "account", account, origin, None, after,
                 details, previous, digest)
            )  # fmt: skip
            previous = digest
            if len(rows) == batch:
                yield rows
                rows = []
        if rows:
            yield rows


async def seed_audit(owner: asyncpg.Connection, size: int) -> None:
    async with owner.transaction():
        await owner.execute("SET LOCAL session_replication_role = replica")
        for rows in audit_batches(size):
            await owner.copy_records_to_table("audit_log", records=rows, columns=AUDIT_COLUMNS)


def verify_whole_trail(dsn: str) -> tuple[float, float, str]:
    """`idv audit verify`'s own function, in a process of its own: wall seconds, peak RSS (MiB), first line."""
    code = (
        "import asyncio, sys\n"
        "from service.audit.commands import describe, verify_database\n"
        "report = asyncio.run(verify_database(sys.argv[1]))\n"
        "print(describe(report).splitlines()[0], 'intact' if report.intact else describe(report).splitlines()[-1])\n"
    )
    done = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", sys.executable, "-c", code, dsn],
        capture_output=True,
        text=True,
        check=False,
    )
    timing = next(line for line in done.stderr.splitlines() if line.startswith("TIME "))
    _, seconds, kib = timing.split()
    return float(seconds), int(kib) / 1024, done.stdout.strip()


def environment(state: Path) -> dict[str, str]:
    return {
        "IDV_ENV": "development",
        "IDV_STATE_DIR": str(state),
        "IDV_MASTER_KEYS": "bench-1:" + base64.b64encode(os.urandom(32)).decode(),
        "IDV_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        "IDV_LOG_LEVEL": "WARNING",
        # The tests' cheap argon2: sign-in here measures lookups at scale, not the hash.
        "IDV_ARGON2_MEMORY_KIB": "1024",
        "IDV_ARGON2_TIME_COST": "1",
        "IDV_RATE_REGISTRATIONS_PER_HOUR": "100000",
        "IDV_RATE_SIGN_INS_PER_MINUTE": "100000",
        "IDV_RATE_CODES_PER_MINUTE": "100000",
    }


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def timed(times: int, action: Callable[[int], Awaitable[Any]]) -> tuple[float, float]:
    for i in range(min(5, times)):  # warm-up: prepared statements, caches
        await action(i)
    samples = []
    for i in range(times):
        started = time.perf_counter()
        await action(i)
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


async def seed(owner_dsn: str, size: int) -> float:
    started = time.perf_counter()
    owner = await asyncpg.connect(owner_dsn)
    try:
        await migrations.migrate(owner, migrations.discover())
        for statement in SEED.split(";\n"):
            if "$1" in statement:
                await owner.execute(statement, size)
            else:
                await owner.execute(statement)
        await seed_audit(owner, size)
        await owner.execute("VACUUM ANALYZE")
    finally:
        await owner.close()
    return time.perf_counter() - started


async def people(client: httpx.AsyncClient) -> list[tuple[str, dict[str, str]]]:
    found = []
    for _ in range(PEOPLE):
        suffix = uuid.uuid4().hex[:10]
        email = f"{suffix}@example.com"
        response = await client.post(
            "/v1/registrations",
            json={
                "display_name": "李小龙",
                "username": f"u_{suffix}",
                "email": email,
                "password": PASSWORD,
                "birth_date": "1990-11-27",
                "accepted_terms_version": "2026-11-01",
                "accepted_privacy_version": "2026-11-01",
            },
        )
        assert response.status_code == 201, response.text
        found.append((email, {"authorization": f"Bearer {response.json()['session']['token']}"}))
    return found


async def operator(runtime: Runtime, client: httpx.AsyncClient) -> dict[str, str]:
    address = f"op-{uuid.uuid4().hex[:8]}@example.com"
    created = await create_operator(
        runtime, address, [Role.REVIEWER, Role.SENIOR_REVIEWER, Role.PRIVACY_OFFICER], Actor.system("bench")
    )
    enrolled = await client.post(
        "/v1/operator/enrolment", json={"enrolment_code": created.enrolment_code, "password": PASSWORD}
    )
    totp = pyotp.TOTP(enrolled.json()["totp_secret"], interval=30)
    await client.post(
        "/v1/operator/enrolment/confirm",
        json={"enrolment_code": created.enrolment_code, "totp_code": totp.now()},
    )
    signed_in = await client.post(
        "/v1/operator/sessions",
        json={"email": address, "password": PASSWORD, "totp_code": totp.at(time.time() + 30)},
    )
    assert signed_in.status_code == 201, signed_in.text
    return {"authorization": f"Bearer {signed_in.json()['token']}"}


async def measure(server: EmbeddedPostgres, scratch: Path, size: int, samples: int) -> dict[str, float]:
    name = f"scale_{size}"
    await prepare_embedded(server, name)
    results: dict[str, float] = {"load avg (1 min) at start": os.getloadavg()[0]}
    results["seed s"] = await seed(server.dsn(name), size)
    print(f"seeded {size:,} accounts in {results['seed s']:.1f} s, load average {os.getloadavg()}", flush=True)
    settings = load_settings(environment(scratch / name))
    async with Runtime.open(settings, server.service_dsn(name), apply_migrations=False) as runtime:
        app = create_asgi(settings, runtime=runtime)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as client:
            persons = await people(client)
            op = await operator(runtime, client)

            async def get(path: str, headers: dict[str, str], params: dict[str, str] | None = None) -> None:
                response = await client.get(path, headers=headers, params=params)
                assert response.status_code == 200, response.text

            async def sign_in(i: int) -> None:
                response = await client.post(
                    "/v1/sessions", json={"identifier": persons[i % PEOPLE][0], "password": PASSWORD}
                )
                assert response.status_code == 201, response.text

            def person(i: int) -> dict[str, str]:
                return persons[i % PEOPLE][1]

            for label, p in (
                ("whoami", "/v1/sessions/whoami"),
                ("GET /v1/me", "/v1/me"),
            ):
                results[f"{label} p50"], results[f"{label} p99"] = await timed(
                    samples, lambda i, p=p: get(p, person(i))
                )
            results["sign-in p50"], results["sign-in p99"] = await timed(samples // 4, sign_in)
            soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
            for label, params in (
                ("queue", {}),
                ("queue case_type", {"case_type": "face"}),
                ("queue state", {"state": "in_review"}),
                ("queue due_before", {"due_before": soon}),
                ("queue mine", {"mine": "true"}),
                ("queue unassigned", {"unassigned": "true"}),
            ):
                results[f"{label} p50"], results[f"{label} p99"] = await timed(
                    samples // 2, lambda i, params=params: get("/v1/operator/cases/", op, params)
                )

        async with runtime.database.connection() as conn:
            for category in retention.CATEGORIES:
                period = category.default
                started = time.perf_counter()
                due = await category.count(conn, period)
                results[f"count {category.name} ms"] = (time.perf_counter() - started) * 1000
                results[f"due {category.name}"] = due
                if category.statements:  # plain SQL: purge, then roll back
                    tx = conn.transaction()
                    await tx.start()
                    started = time.perf_counter()
                    await category.purge(runtime, conn, period)
                    results[f"purge {category.name} ms"] = (time.perf_counter() - started) * 1000
                    await tx.rollback()
            started = time.perf_counter()
            results["due unverified"] = await accounts.count_unverified_past(conn, settings.unverified_account_lifetime)
            results["count unverified ms"] = (time.perf_counter() - started) * 1000
            for jit in ("on", "off"):
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL jit = {jit}")
                    started = time.perf_counter()
                    rows = await conn.fetch(
                        MINORS_PAST_WINDOW, settings.guardian_consent_window, list(WITHOUT_GUARDIAN_REASONS)
                    )
                    results[f"minors window jit={jit} ms"] = (time.perf_counter() - started) * 1000
            results["due minors"] = len(rows)
            plan = await conn.fetch(
                "EXPLAIN (ANALYZE, BUFFERS) " + cases.queue_statement(open_only=True, any_open_state=True),
                ["real_name", "face"],
                ["submitted", "auto_checks", "in_review", "resubmission_requested", "pending_second_approval"],
                None,
                None,
                False,
                50,
                None,
            )
            print(f"\n-- queue plan at {size} accounts\n" + "\n".join(row[0] for row in plan))
            checked: list[tuple[str, str, tuple[Any, ...]]] = [
                (f"{category.name} {n}", statement, (category.default,))
                for category in retention.CATEGORIES
                for n, statement in enumerate(category.statements)
            ]
            checked.append(("oldest live key", retention.OLDEST_LIVE_KEY, ()))
            checked.append(
                (
                    "guardian window",
                    MINORS_PAST_WINDOW,
                    (settings.guardian_consent_window, list(WITHOUT_GUARDIAN_REASONS)),
                )
            )
            for label, statement, args in checked:
                plan = await conn.fetch("EXPLAIN " + statement, *args)
                print(f"\n-- {label} plan at {size} accounts\n" + "\n".join(row[0] for row in plan))
            plan = await conn.fetch(
                "EXPLAIN SELECT id, chain, seq FROM audit_log ORDER BY chain, seq"  # the verify cursor's order
            )
            print(f"\n-- audit verify walk plan at {size} accounts\n" + "\n".join(row[0] for row in plan))
            results["bytes/account"] = await conn.fetchval("SELECT pg_database_size(current_database())") / size
            results["audit_log bytes/account"] = (
                await conn.fetchval("SELECT pg_total_relation_size('audit_log')") / size
            )
    seconds, peak, said = verify_whole_trail(server.service_dsn(name))
    print(f"audit verify at {size:,} accounts: {seconds:.1f} s, peak RSS {peak:.0f} MiB: {said}", flush=True)
    results["audit verify s"] = seconds
    results["audit verify peak RSS MiB"] = peak
    results["load avg (1 min) at end"] = os.getloadavg()[0]
    return results


def report(sizes: list[int], results: dict[int, dict[str, float]]) -> None:
    keys = list(results[sizes[0]])
    header = f"{'':34}" + "".join(f"{size:>12,}" for size in sizes) + f"{'ratio':>8}"
    print("\n" + header)
    for key in keys:
        values = [results[size].get(key, float("nan")) for size in sizes]
        ratio = values[-1] / values[0] if values[0] else float("nan")
        print(f"{key:34}" + "".join(f"{v:>12.2f}" for v in values) + f"{ratio:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 accounts (long)")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.million else [])
    scratch = Path(tempfile.mkdtemp(prefix="idv-bench-scale-"))
    scratch.chmod(0o755)
    server = EmbeddedPostgres(scratch / "pg").start()
    try:
        results: dict[int, dict[str, float]] = {}
        for size in sizes:
            results[size] = asyncio.run(measure(server, scratch, size, args.samples))
            report(list(results), results)  # as it goes: the 1M run is long
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
