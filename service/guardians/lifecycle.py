"""Guardianships over time: revoked by the guardian, ended at majority, and minors' data that no
guardian consented to deleted after the window (a daily job)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.accounts.notices import notify
from service.accounts.states import AccountEvent
from service.accounts.suspension import suspend
from service.audit import Actor, AuditEntry
from service.consents.effects import withdraw_on_behalf
from service.errors import NotFound
from service.guardians import store
from service.guardians.consent import PURPOSES_FOR_SCOPE
from service.guardians.store import LIVE, GuardianshipState
from service.jobs.runner import ScheduledJob
from service.lifecycle.erasure import erase_account
from service.runtime import Runtime
from service.sessions.sessions import Principal
from service.vault.labels import VaultField
from verification.ages import AgeBand

KEEPER = Actor.system("guardians.lifecycle")


async def revoke(runtime: Runtime, principal: Principal, guardianship_id: UUID, actor: Actor) -> None:
    """The guardian withdraws their consent. Without another guardian the minor's account is
    suspended, and deleted after the consent window unless a guardian consents again."""
    async with runtime.database.transaction() as conn:
        row = await store.lock_own_as_guardian(conn, guardianship_id, principal.account_id)
        if row is None or row.state not in LIVE:
            raise NotFound("guardianship_not_found", "No such guardianship in force")
        await store.set_state(conn, guardianship_id, GuardianshipState.REVOKED, end_reason="revoked_by_guardian")
        purposes = [PURPOSES_FOR_SCOPE[s].value for s in row.scopes]
        minor_id: UUID = row.minor_account_id
        await withdraw_on_behalf(conn, minor_id, purposes, principal.account_id, "guardian")
        if not await store.live_guardians(conn, minor_id):
            await suspend(conn, minor_id, "guardian_consent_revoked", actor, None)
        await runtime.audit.append(
            conn, AuditEntry(actor, "guardian.revoked", "account", str(minor_id), {"guardianship": str(row.id)})
        )


async def erase_without_consent(runtime: Runtime) -> int:
    """Minors whose guardian never consented (or revoked, with none left) within the window."""
    erased = 0
    async with runtime.database.transaction() as conn:
        for account_id in await store.minors_past_window(conn, runtime.settings.guardian_consent_window):
            await erase_account(
                runtime, conn, account_id, AccountEvent.ERASED_WITHOUT_CONSENT, "no_guardian_consent", KEEPER
            )
            erased += 1
    return erased


async def _age_band(runtime: Runtime, conn: asyncpg.Connection, account_id: UUID, today: date) -> AgeBand | None:
    cipher = await runtime.vault.open(conn, account_id)
    sealed = await store.verified_birth_date(conn, account_id)
    if sealed is not None:
        born = date.fromisoformat(cipher.open_text(VaultField.REALNAME_BIRTH_DATE, sealed))
    else:
        profile = await accounts.fetch_profile(conn, account_id)
        if profile is None:
            return None
        born = date.fromisoformat(cipher.open_text(VaultField.ACCOUNT_BIRTH_DATE, profile.birth_date))
    return runtime.settings.age_profile.band(born, today)


async def end_at_majority(runtime: Runtime, today: date | None = None) -> int:
    """Guardianships of people who are now adults end (the guardian consents no more for them)."""
    today = today or runtime.settings.today()
    ended = 0
    async with runtime.database.transaction() as conn:
        for row in await store.active_guardianships(conn):
            if await _age_band(runtime, conn, row.minor_account_id, today) is AgeBand.ADULT:
                await store.set_state(conn, row.id, GuardianshipState.ENDED, end_reason="came_of_age")
                # Both are told; the now-adult is asked to review the policies and consents as an adult.
                templates = ("guardianship_ended", "guardianship_ended_sms")
                for account_id, news in (
                    (row.minor_account_id, "You are now an adult."),
                    (row.guardian_account_id, "The minor you were the guardian of is now an adult."),
                ):
                    await notify(runtime, conn, account_id, templates, {"news": news})
                details = {"guardianship": str(row.id)}
                await runtime.audit.append(
                    conn,
                    AuditEntry(KEEPER, "guardian.ended_at_majority", "account", str(row.minor_account_id), details),
                )
                ended += 1
    return ended


def guardian_schedule(runtime: Runtime) -> ScheduledJob:
    async def run() -> None:
        await erase_without_consent(runtime)
        await end_at_majority(runtime)

    # Daily, just after midnight in Asia/Shanghai (16:05 UTC), when birthdays change.
    return ScheduledJob("guardians.daily", "5 16 * * *", run)
