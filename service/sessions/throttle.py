"""Failed sign-in attempts, counted per account and per client address in one statement.

An attempt is *reserved* before the password is checked: the counter goes up first, and only
a success takes it back down. So parallel guesses cannot slip past the limit: each one must
win a row update, and once a subject's free attempts are spent the same statement pushes its
``next_allowed_at`` into the future, which refuses every concurrent attempt that follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from service.vault import BlindIndex

# Free attempts before back-off starts, per kind of subject. An address is shared by many
# people behind NAT, so it gets more; an account gets few, and back-off rather than lock-out,
# so an attacker cannot lock a victim out for long.
ACCOUNT_FREE_ATTEMPTS = 5
ADDRESS_FREE_ATTEMPTS = 100
# Failures older than this are forgotten.
FAILURE_MEMORY = timedelta(hours=1)

_RESERVE = """
INSERT INTO sign_in_throttle AS t (subject, free_attempts, failures, next_allowed_at, updated_at)
SELECT s.subject, s.free, 1, now() + sign_in_backoff(1, s.free), now()
FROM unnest($1::bytea[], $2::int[]) AS s(subject, free)
ON CONFLICT (subject) DO UPDATE
SET failures = CASE WHEN t.updated_at < now() - $3::interval THEN 1 ELSE t.failures + 1 END,
    next_allowed_at = now() + sign_in_backoff(
        CASE WHEN t.updated_at < now() - $3::interval THEN 1 ELSE t.failures + 1 END,
        t.free_attempts),
    updated_at = now()
WHERE t.next_allowed_at <= now()
RETURNING subject
"""


@dataclass(frozen=True)
class Reservation:
    granted: bool
    retry_after_seconds: int


class SignInThrottle:
    def __init__(self, index: BlindIndex) -> None:
        self.index = index

    def account_subject(self, account_id: str) -> bytes:
        return self.index.digest("throttle", f"account:{account_id}")

    def identifier_subject(self, identifier_key: str) -> bytes:
        return self.index.digest("throttle", f"identifier:{identifier_key}")

    def address_subject(self, address: str) -> bytes:
        return self.index.digest("throttle", f"address:{address}")

    async def reserve(self, conn: asyncpg.Connection, person: bytes, address: bytes) -> Reservation:
        subjects = [person, address]
        frees = [ACCOUNT_FREE_ATTEMPTS, ADDRESS_FREE_ATTEMPTS]
        rows = await conn.fetch(_RESERVE, subjects, frees, FAILURE_MEMORY)
        if len(rows) == len(subjects):
            return Reservation(True, 0)
        wait = await conn.fetchval(
            """SELECT extract(epoch FROM max(next_allowed_at) - now()) FROM sign_in_throttle
               WHERE subject = ANY($1::bytea[])""",
            subjects,
        )
        return Reservation(False, max(1, math.ceil(float(wait or 1))))

    async def forgive(self, conn: asyncpg.Connection, person: bytes) -> None:
        """A successful sign-in clears the person's count (not the address's: a sprayer with
        one valid account must not be able to reset it)."""
        await conn.execute("DELETE FROM sign_in_throttle WHERE subject = $1", person)
