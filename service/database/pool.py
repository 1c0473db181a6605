"""The connection pool, and the one way commands get a transaction."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

import asyncpg
from asyncpg import exceptions as pg

# How long a command waits for a pooled connection before the service answers 503: long enough
# for a burst, short enough that requests do not pile up behind a database that is gone.
ACQUIRE_TIMEOUT_SECONDS = 10.0
# asyncpg's connect timeout (its default is 60 s).
CONNECT_TIMEOUT_SECONDS = 10.0

# Errors that say the database cannot be reached now, whatever the command was.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    pg.PostgresConnectionError,  # SQLSTATE class 08, ConnectionDoesNotExistError included
    pg.CannotConnectNowError,  # starting up or shutting down
    pg.AdminShutdownError,  # stopped under a running query
    pg.CrashShutdownError,
    pg.TooManyConnectionsError,
    ConnectionError,  # refused, reset, broken pipe
)


class DatabaseUnavailable(Exception):
    """No connection could be had from the pool in time."""


def _raised_in_asyncpg(tb: TracebackType | None) -> bool:
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith("asyncpg"):
            return True
        tb = tb.tb_next
    return False


def database_unavailability(exc: BaseException) -> BaseException | None:
    """The error in ``exc``'s chain that says the database cannot be reached now, if any:
    then the request may be tried again later, and it is not a bug in the service."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (DatabaseUnavailable, *_UNREACHABLE)):
            return current
        # Socket errors and timeouts while connecting (refused on every address, DNS, ...), and
        # the "connection is closed" asyncpg reports after losing one under a transaction.
        if isinstance(current, OSError) and _raised_in_asyncpg(current.__traceback__):
            return current
        if isinstance(current, pg.InterfaceError) and "connection is closed" in str(current):
            return current
        current = current.__cause__ or current.__context__
    return None


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

    def __init__(self, pool: asyncpg.Pool, *, acquire_timeout: float = ACQUIRE_TIMEOUT_SECONDS) -> None:
        self.pool = pool
        self.acquire_timeout = acquire_timeout

    @classmethod
    async def connect(cls, dsn: str, *, min_size: int = 2, max_size: int = 10) -> Database:
        pool = await asyncpg.create_pool(
            dsn,
            reset=_keep_session,
            timeout=CONNECT_TIMEOUT_SECONDS,
            min_size=min_size,
            max_size=max_size,
            # Read committed whatever the server's default: the audit trigger links each entry to
            # the last one committed on its chain, which a repeatable-read snapshot could miss.
            server_settings={
                "application_name": "idv",
                "timezone": "UTC",
                "default_transaction_isolation": "read committed",
                # The service's queries are short: JIT compilation cost more than it saved (200 of 349 ms
                # of the guardian window job at 100k accounts, issue 23; bench/scale.py measures both).
                "jit": "off",
            },
        )
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.connection() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            conn = await self.pool.acquire(timeout=self.acquire_timeout)
        except TimeoutError as exc:
            raise DatabaseUnavailable("no pooled connection in time") from exc
        try:
            # A pool's proxy behaves as a connection; store functions are typed for connections.
            yield cast(asyncpg.Connection, conn)
        finally:
            await self.pool.release(conn)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self.pool.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    async def close(self) -> None:
        await self.pool.close()
