"""A delivery job cancelled while its message travels (a worker shutting down, a connection lost)
must not send the message twice: the send and its record are not parted by the cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import asyncpg

from service.courier.outbox import Courier
from service.database.pool import Database
from tests.helpers import register


class SlowMailer:
    """A mail server that accepts the message in a thread (as FileOutbox and blocking clients do):
    once handed over, the message leaves whatever happens to the coroutine that handed it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.sent: list[str] = []

    def _send(self, recipient: str) -> None:
        self.entered.set()
        self.release.wait(10)
        self.sent.append(recipient)

    async def send_email(self, recipient: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send, recipient)

    async def send_sms(self, recipient: str, body: str) -> None:
        await asyncio.to_thread(self._send, recipient)


async def test_a_job_cancelled_mid_send_records_the_message_and_its_retry_sends_nothing(
    client: Any, runtime: Any, db: Any
) -> None:
    await register(client, phone=None)
    message_id = await db.fetchval("SELECT id FROM courier_messages WHERE status = 'queued'")
    mailer = SlowMailer()
    courier = Courier(runtime.database, runtime.vault, mailer, mailer, "idv")

    job = asyncio.create_task(courier.deliver(message_id))
    assert await asyncio.to_thread(mailer.entered.wait, 10)
    job.cancel()
    mailer.release.set()
    with contextlib.suppress(asyncio.CancelledError):
        await job

    async def recorded() -> bool:
        return await db.fetchval("SELECT status FROM courier_messages WHERE id = $1", message_id) == "sent"

    for _ in range(200):
        if await recorded():
            break
        await asyncio.sleep(0.05)
    assert await recorded(), "the message left but was not recorded as sent"

    # The job's retry (the cancelled run counts as failed) finds nothing to send.
    assert await courier.deliver(message_id) is False
    assert len(mailer.sent) == 1


async def test_a_pool_that_hands_out_no_connection_in_time_delays_the_record_not_repeats_the_send(
    client: Any, runtime: Any, db: Any, database_url: str
) -> None:
    """After a restart the pool may take longer than its acquire timeout to hand out a connection
    (seen in CI: the job failed after sending and its retry sent the code again)."""
    await register(client, phone=None)
    message_id = await db.fetchval("SELECT id FROM courier_messages WHERE status = 'queued'")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        database = Database(pool, acquire_timeout=0.05)
        mailer = SlowMailer()
        courier = Courier(database, runtime.vault, mailer, mailer, "idv")
        delivery = asyncio.create_task(courier.deliver(message_id))
        assert await asyncio.to_thread(mailer.entered.wait, 10)
        # The pool's only connection is busy while the message leaves, for several acquire timeouts.
        async with pool.acquire():
            mailer.release.set()
            await asyncio.sleep(0.5)
        assert await asyncio.wait_for(delivery, 30) is True
        status = await db.fetchval("SELECT status FROM courier_messages WHERE id = $1", message_id)
        assert status == "sent"
        assert await courier.deliver(message_id) is False
        assert len(mailer.sent) == 1
    finally:
        await pool.close()
