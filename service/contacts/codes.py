"""One-time codes that prove someone receives mail or SMS at an address.

Six digits from a CSPRNG, stored as a keyed hash bound to the code's id, valid ten minutes,
used once, at most five guesses, and resent no more than once a minute and five times an hour.
"""

from __future__ import annotations

import math
import secrets
import uuid
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg

from service.contacts import store
from service.contacts.store import ContactKind as ContactKind  # where callers have found it
from service.courier.outbox import Message, queue_messages
from service.errors import RateLimited
from service.vault import BlindIndex, OwnerCipher
from service.vault.labels import IndexPurpose

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_INTERVAL_SECONDS = 60
MAX_CODES_PER_HOUR = 5


class CodeCheck(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    NONE_LIVE = "none_live"  # expired, used up, or never sent


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_digest(index: BlindIndex, code_id: UUID, code: str) -> bytes:
    return index.digest(IndexPurpose.ONE_TIME_CODE, f"{code_id}:{code}")


async def send_code(
    conn: asyncpg.Connection, index: BlindIndex, cipher: OwnerCipher, kind: ContactKind, address: str
) -> None:
    """Issue a code for one of the account's contacts (see send_purpose_code)."""
    await send_purpose_code(conn, index, cipher, kind.purpose, kind.purpose, address)


async def send_purpose_code(
    conn: asyncpg.Connection, index: BlindIndex, cipher: OwnerCipher, purpose: str, template: str, address: str
) -> None:
    """Issue a code for a purpose and queue its message, or refuse with 429 when asked too often."""
    recent = await store.recent_codes(conn, cipher.owner_id, purpose, timedelta(hours=1))
    since_last = recent.seconds_since_last
    if since_last is not None and since_last < RESEND_INTERVAL_SECONDS:
        wait = math.ceil(RESEND_INTERVAL_SECONDS - float(since_last))
        raise RateLimited(
            "code_resend_too_soon",
            "A code was sent moments ago",
            f"Ask again in {wait} seconds.",
            retry_after=wait,
        )
    if recent.issued >= MAX_CODES_PER_HOUR:
        wait = max(1, math.ceil(float(recent.seconds_until_oldest_expires or 0)))
        raise RateLimited("too_many_codes", "Too many codes were sent in the last hour", retry_after=wait)
    code_id, code = uuid.uuid4(), new_code()
    await store.insert_code(conn, code_id, cipher.owner_id, purpose, code_digest(index, code_id, code), CODE_TTL)
    await queue_messages(conn, cipher, [_code_message(template, address, code)])


async def send_first_codes(
    conn: asyncpg.Connection, index: BlindIndex, cipher: OwnerCipher, contacts: list[tuple[ContactKind, str]]
) -> None:
    """Codes for the contacts of a brand-new account (nothing to throttle or replace), in bulk."""
    issued = [(uuid.uuid4(), kind, address, new_code()) for kind, address in contacts]
    await store.insert_first_codes(
        conn,
        cipher.owner_id,
        [(code_id, kind.purpose, code_digest(index, code_id, code)) for code_id, kind, _, code in issued],
        CODE_TTL,
    )
    messages = [_code_message(kind.purpose, address, code) for _, kind, address, code in issued]
    await queue_messages(conn, cipher, messages)


def _code_message(template: str, address: str, code: str) -> Message:
    return Message(template, address, {"code": code, "minutes": str(int(CODE_TTL.total_seconds() // 60))})


async def check_code(
    conn: asyncpg.Connection, index: BlindIndex, account_id: UUID, kind: ContactKind, code: str
) -> CodeCheck:
    """Spend one attempt on the contact's live code (see check_purpose_code)."""
    return await check_purpose_code(conn, index, account_id, kind.purpose, code)


async def check_purpose_code(
    conn: asyncpg.Connection, index: BlindIndex, account_id: UUID, purpose: str, code: str
) -> CodeCheck:
    """Spend one attempt on the purpose's live code. The attempt is written even when the code is
    wrong, so the caller must commit before answering."""
    live = await store.spend_attempt(conn, account_id, purpose, MAX_ATTEMPTS)
    if live is None:
        return CodeCheck.NONE_LIVE
    if not index.matches(IndexPurpose.ONE_TIME_CODE, f"{live.id}:{code}", live.code_digest):
        return CodeCheck.WRONG
    return CodeCheck.ACCEPTED if await store.consume(conn, live.id) else CodeCheck.NONE_LIVE
