"""Many rows at once, in SQL, for tests that look at query plans (not timings): accounts with
sessions, one-time codes, sent messages and review cases, most of them closed or long past. Sealed
columns hold placeholder bytes, not ciphertext; nothing here is read back through the vault."""

from __future__ import annotations

import asyncpg

SEED = """
INSERT INTO data_keys (owner_id, master_key_id, wrapped_key)
    SELECT md5('volume' || i)::uuid, 'volume', '\\x00'::bytea FROM generate_series(1, $1) i;
INSERT INTO accounts (id, state, display_name, birth_date, password_hash, created_at, updated_at)
    SELECT md5('volume' || i)::uuid,
           CASE WHEN i % 100 = 0 THEN 'suspended' WHEN i % 97 = 0 THEN 'awaiting_guardian' ELSE 'active' END,
           '\\x00'::bytea, '\\x00'::bytea, 'placeholder, not a hash',
           now() - (i % 700) * interval '1 day', now() - (i % 700) * interval '1 day'
    FROM generate_series(1, $1) i;
INSERT INTO sessions (id, account_id, token_digest, assurance, created_at, expires_at, ended_at)
    SELECT md5('session' || i)::uuid, md5('volume' || (i % $1 + 1))::uuid, decode(md5('token' || i), 'hex'), 1,
           now() - (i % 400) * interval '1 day', now() - (i % 400) * interval '1 day' + interval '30 days',
           CASE WHEN i % 3 = 0 THEN NULL ELSE now() - (i % 400) * interval '1 day' + interval '1 hour' END
    FROM generate_series(1, $1 * 2) i;
INSERT INTO one_time_codes (id, account_id, purpose, code_digest, created_at, expires_at)
    SELECT md5('code' || i)::uuid, md5('volume' || (i % $1 + 1))::uuid, 'verify_contact', '\\x00'::bytea,
           now() - (i % 400) * interval '1 day', now() - (i % 400) * interval '1 day' + interval '10 minutes'
    FROM generate_series(1, $1 * 2) i;
INSERT INTO courier_messages (id, owner_id, channel, template, recipient, status, created_at)
    SELECT md5('message' || i)::uuid, md5('volume' || (i % $1 + 1))::uuid, 'email', 'code', '\\x00'::bytea,
           CASE WHEN i % 50 = 0 THEN 'queued' ELSE 'sent' END, now() - (i % 400) * interval '1 day'
    FROM generate_series(1, $1 * 2) i;
INSERT INTO review_cases (id, case_type, subject_account_id, state, priority, due_at, created_at, closed_at)
    SELECT md5('case' || i)::uuid, 'real_name', md5('volume' || (i % $1 + 1))::uuid,
           CASE WHEN i % 20 = 0 THEN 'in_review' ELSE 'approved' END, 1 + i % 4,
           now() + (i % 30) * interval '1 day', now() - (i % 400) * interval '1 day',
           CASE WHEN i % 20 = 0 THEN NULL ELSE now() - (i % 400) * interval '1 day' END
    FROM generate_series(1, $1) i;
INSERT INTO review_case_evidence (case_id, name, value, masked, version)
    SELECT md5('case' || i)::uuid, 'legal_name', '\\x00'::bytea, '*', 1 FROM generate_series(1, $1) i;
"""


async def many_rows(owner: asyncpg.Connection, accounts: int = 20_000) -> None:
    """Seed as the owner (sealed columns and triggers as they are), then refresh the planner's statistics."""
    async with owner.transaction():
        for statement in SEED.split(";\n"):
            if statement.strip():
                await owner.execute(statement, accounts)
    await owner.execute("ANALYZE")


async def plan(conn: asyncpg.Connection, sql: str, *args: object) -> str:
    """The plan PostgreSQL chooses for the statement with these parameters, as text."""
    rows = await conn.fetch("EXPLAIN " + sql, *args)
    return "\n".join(row[0] for row in rows)
