"""Enqueue jobs on the caller's connection, so a job exists exactly when its cause commits."""

from __future__ import annotations

from datetime import timedelta

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
