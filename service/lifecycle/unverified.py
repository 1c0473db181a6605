"""Registrations nobody verified: erased once IDV_UNVERIFIED_ACCOUNT_LIFETIME has passed since the
account last entered ``pending_verification``, through the same erasure as a cancellation (which
frees its e-mail, phone and username). Without this, anyone could register someone else's address
and keep it taken for good."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

import asyncpg

from service.accounts.states import AccountEvent
from service.audit import Actor
from service.lifecycle.erasure import erase_account
from service.runtime import Runtime

SWEEPER = Actor.system("lifecycle.erase_unverified")
logger = logging.getLogger(__name__)

# Pending accounts with no verified contact, pending for longer than $1 (since their last change
# into the state: registration, or a way back that found no verified contact).
_PAST_LIFETIME = """SELECT a.id FROM accounts a
    WHERE a.state = 'pending_verification'
      AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND c.verified_at IS NOT NULL)
      AND coalesce((SELECT max(s.at) FROM account_state_changes s
                    WHERE s.account_id = a.id AND s.to_state = 'pending_verification'), a.created_at)
          < now() - $1::interval"""


async def count_unverified_past(conn: asyncpg.Connection, lifetime: timedelta) -> int:
    due: int = await conn.fetchval(f"SELECT count(*) FROM ({_PAST_LIFETIME}) t", lifetime)  # noqa: S608
    return due


async def erase_unverified(runtime: Runtime) -> int:
    """Erase each account past the lifetime, one transaction each; how many were erased."""
    erased = 0
    passed_over: list[UUID] = []
    while True:
        async with runtime.database.transaction() as conn:
            account_id = await conn.fetchval(
                _PAST_LIFETIME + " AND a.id <> ALL($2::uuid[]) LIMIT 1 FOR UPDATE OF a SKIP LOCKED",
                runtime.settings.unverified_account_lifetime,
                passed_over,
            )
            if account_id is None:
                return erased
            try:
                async with conn.transaction():
                    await erase_account(
                        runtime, conn, account_id, AccountEvent.UNVERIFIED_EXPIRED, "never_verified", SWEEPER
                    )
            except Exception:
                # One account's failure does not keep the others: the next run tries it again.
                logger.warning(
                    "erasing an unverified account failed", extra={"account": str(account_id)}, exc_info=True
                )
                passed_over.append(account_id)
                continue
            erased += 1
