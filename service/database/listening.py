"""One LISTEN connection per process, shared by everything kept in step across replicas.

A command sends a NOTIFY in its transaction (delivered on commit, or by a trigger); each process
LISTENs on a connection of its own (pooled connections keep no session state). A subscriber is
told each payload, and resynchronises on every (re)connection (notifications sent while away are
lost) and every ``interval`` in case one was lost anyway. A lost connection is reopened with a
backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Protocol

import asyncpg

from service.database.pool import CONNECTION_ERRORS, Backoff, ConnectionLost

logger = logging.getLogger(__name__)

APPLICATION_NAME = "idv-listener"


class Subscriber(Protocol):
    channel: str

    def notified(self, payload: str) -> bool:
        """Take a notification; True asks for ``resync`` (run on the listener's task, not here)."""
        ...

    async def resync(self, conn: asyncpg.Connection) -> None:
        """Catch up with what may have been missed (on every connection, and every interval)."""
        ...


class Listener:
    def __init__(
        self, dsn: str, subscribers: list[Subscriber], interval: timedelta, backoff: Backoff = Backoff()
    ) -> None:
        self.dsn = dsn
        self.subscribers = subscribers
        self.interval = interval
        self.backoff = backoff
        self.listening = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self._session(stop)
            except Exception as exc:  # whatever ends a session, the subscribers keep being resynchronised
                if self.listening.is_set():
                    failures = 0
                failures += 1
                if isinstance(exc, CONNECTION_ERRORS):
                    logger.warning("listener lost the database", extra={"error": type(exc).__name__})
                else:
                    logger.error("listener failed", exc_info=exc)
            self.listening.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.backoff.delay(failures))

    async def _session(self, stop: asyncio.Event) -> None:
        """Listen until ``stop`` is set (return) or the connection is lost (raise)."""
        lost, told = asyncio.Event(), asyncio.Event()
        due: set[int] = set()

        def deliver(index: int, subscriber: Subscriber, payload: str) -> None:
            if subscriber.notified(payload):
                due.add(index)
                told.set()

        conn = await asyncpg.connect(self.dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME})
        try:
            conn.add_termination_listener(lambda _: lost.set())
            for index, subscriber in enumerate(self.subscribers):
                await conn.add_listener(
                    subscriber.channel,
                    lambda _c, _p, _ch, payload, i=index, s=subscriber: deliver(i, s, payload),
                )
            for subscriber in self.subscribers:
                await subscriber.resync(conn)
            self.listening.set()
            while True:
                waits = [asyncio.create_task(e.wait()) for e in (stop, lost, told)]
                _, pending = await asyncio.wait(
                    waits, timeout=self.interval.total_seconds(), return_when="FIRST_COMPLETED"
                )
                for waiting in pending:
                    waiting.cancel()
                if stop.is_set():
                    return
                if lost.is_set():
                    raise ConnectionLost
                timed_out = not told.is_set()
                told.clear()
                resync = set(range(len(self.subscribers))) if timed_out else set(due)
                due.clear()
                for index in sorted(resync):
                    await self.subscribers[index].resync(conn)
        finally:
            if not conn.is_closed():
                conn.terminate()
