"""Enqueue jobs on the caller's connection, so a job exists exactly when its cause commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import asyncpg
import msgspec
from pgqueuer.queries import Queries


async def enqueue(
    conn: asyncpg.Connection,
    entrypoint: str,
    payload: msgspec.Struct | None = None,
    *,
    delay: timedelta | None = None,
    dedupe_key: str | None = None,
    priority: int = 0,
) -> int:
    """Insert a job; the NOTIFY that wakes workers is sent by PostgreSQL only on commit.

    Payloads carry ids, never personal data: job rows and their logs are not encrypted.
    """
    body = None if payload is None else msgspec.json.encode(payload)
    ids = await Queries.from_asyncpg_connection(conn).enqueue(entrypoint, body, priority, delay, dedupe_key)
    return int(ids[0])


class LiveJob(NamedTuple):
    """A job queued or running; ``due_at`` is when it runs (next, after a failed attempt)."""

    id: int
    status: str
    due_at: datetime


async def live_jobs(conn: asyncpg.Connection, dedupe_keys: list[str]) -> dict[str, LiveJob]:
    """The queued or running job of each key (pgqueuer keeps at most one per key)."""
    rows = await conn.fetch(
        """SELECT id, status::text AS status, execute_after, dedupe_key FROM pgqueuer
           WHERE dedupe_key = ANY($1::text[]) AND status IN ('queued', 'picked')""",
        dedupe_keys,
    )
    return {row["dedupe_key"]: LiveJob(row["id"], row["status"], row["execute_after"]) for row in rows}


async def run_now(conn: asyncpg.Connection, job_id: int) -> None:
    """Bring a queued job's next attempt forward to now (its attempts and backoff carry on)."""
    await conn.execute(
        "UPDATE pgqueuer SET execute_after = now(), updated = now() WHERE id = $1 AND status = 'queued'", job_id
    )
