"""The connection pool, and the one way commands get a transaction."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import asyncpg


class ConnectionLost(Exception):
    """PostgreSQL closed a long-lived connection (a restart, a failover, a terminated backend)."""


# What the database going away looks like to a client (a restart, a failover, a terminated backend,
# a server still starting): worth waiting out and retrying, unlike every other error.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    ConnectionLost,
)


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnection attempts of a long-lived connection (the job runner's, the
    policy listener's): doubling from ``initial`` up to ``cap``, each drawn from its upper half so
    that processes which lost the database together do not come back together."""

    initial: float = 0.5
    cap: float = 10.0

    def delay(self, failures: int) -> float:
        ceiling = min(self.cap, self.initial * 2 ** max(0, failures - 1))
        return random.uniform(ceiling / 2, ceiling)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release a connection without asyncpg's reset query (advisory-unlock, CLOSE ALL, UNLISTEN,
    RESET ALL): that is a round trip on every checkout, doubling the work of a one-query request
    such as whoami. asyncpg still rolls back an open transaction on release. What we give up is
    safe because pooled connections never carry session state here: no SET, no LISTEN, no
    session-level advisory locks (migrations take theirs on a connection of their own)."""


class Database:
    """An asyncpg pool. Every command runs in ``transaction()``: all of it is written, or none."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, dsn: str, *, min_size: int = 2, max_size: int = 10) -> Database:
        pool = await asyncpg.create_pool(
            dsn,
            reset=_keep_session,
            min_size=min_size,
            max_size=max_size,
            # Read committed whatever the server's default: the audit trigger links each entry to
            # the last one committed on its chain, which a repeatable-read snapshot could miss.
            server_settings={
                "application_name": "idv",
                "timezone": "UTC",
                "default_transaction_isolation": "read committed",
            },
        )
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            # A pool's proxy behaves as a connection; store functions are typed for connections.
            yield cast(asyncpg.Connection, conn)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn:
            yield cast(asyncpg.Connection, conn)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self.pool.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    async def close(self) -> None:
        await self.pool.close()
