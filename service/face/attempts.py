"""How many face attempts an account may make: challenges per day, and failed answers in a row.

Every attempt is one more try for an attacker holding a photo, so both are bounded per account;
past either bound the person is pointed to document review (an operator looks at their identity
document, no biometric processing). The counts are taken under a row lock on the account, in the
transaction that issues the challenge or claims it, so parallel requests cannot all slip under the
bound.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from service.errors import Conflict, RateLimited
from service.face import store
from service.settings import Settings

DOCUMENT_REVIEW = "/v1/me/verifications/document-review"


async def check_attempts(
    conn: asyncpg.Connection, settings: Settings, account_id: UUID, *, answering: bool = False
) -> None:
    """Lock the account's face attempts and refuse one more past the configured bounds (only the
    failures when answering: the challenge being answered was counted when it was issued)."""
    attempts = await store.lock_attempts(conn, account_id)
    if attempts.failures_in_a_row >= settings.face_failures_in_a_row:
        raise Conflict(
            "face_attempts_exhausted",
            "Face verification did not succeed; please use document review instead",
            f"After {settings.face_failures_in_a_row} unsuccessful attempts in a row, face verification is no"
            f" longer offered for this account. A person can review your identity document instead:"
            f" POST {DOCUMENT_REVIEW}.",
        )
    if answering:
        return
    if attempts.challenges_today >= settings.face_challenges_per_day and attempts.oldest_today is not None:
        wait = (attempts.oldest_today + store.ATTEMPT_WINDOW - datetime.now(UTC)).total_seconds()
        raise RateLimited(
            "face_challenges_exhausted",
            "Too many face verification attempts today",
            f"At most {settings.face_challenges_per_day} face challenges a day. Try again later, or have a"
            f" person review your identity document instead: POST {DOCUMENT_REVIEW}.",
            retry_after=max(1, math.ceil(wait)),
        )
