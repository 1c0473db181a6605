"""Registrations nobody verified: erased once IDV_UNVERIFIED_ACCOUNT_LIFETIME has passed since the
account last entered ``pending_verification``, through the same erasure as a cancellation (which
frees its e-mail, phone and username). Without this, anyone could register someone else's address
and keep it taken for good."""

from __future__ import annotations

import logging
from uuid import UUID

from service.accounts import store as accounts
from service.accounts.states import AccountEvent
from service.audit import Actor
from service.lifecycle.erasure import erase_account
from service.runtime import Runtime

SWEEPER = Actor.system("lifecycle.erase_unverified")
logger = logging.getLogger(__name__)


async def erase_unverified(runtime: Runtime) -> int:
    """Erase each account past the lifetime, one transaction each; how many were erased."""
    erased = 0
    passed_over: list[UUID] = []
    while True:
        async with runtime.database.transaction() as conn:
            account_id = await accounts.lock_next_unverified_past(
                conn, runtime.settings.unverified_account_lifetime, passed_over
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
