"""The security notice "sign-in from a new device" (issue 19).

A device is what a person would recognise: the user agent summarised ("Firefox on Windows") and the address's
network (/24 or /48), as the security log shows them (verification.devices). A sign-in is from a new device when
no session of the account's recent ones (the last ``RECENT_SESSIONS`` within the sessions retention period, live
or ended, the registration's included) came from that device. The very first sign-in after registration never
counts: nobody has been told of a device yet, and the registration's own session may well be on another one.
The notice is queued in the sign-in's transaction, so it exists exactly when the session does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from service.accounts.notices import notify
from service.retention_categories import DEFAULT_PERIODS, Retained
from service.runtime import Runtime
from service.sessions import store
from service.vault import OwnerCipher
from service.vault.labels import VaultField
from verification.devices import device, network

RECENT_SESSIONS = 50
NOTICE = ("new_device_sign_in", "new_device_sign_in_sms")
SIGNED_IN = "session.signed_in"


async def is_new_device(
    runtime: Runtime, conn: asyncpg.Connection, cipher: OwnerCipher, client_address: str | None, user_agent: str | None
) -> bool:
    """Whether signing in from here now is from a device the account's recent sessions never used (call before the
    new session is stored)."""
    account_id = cipher.owner_id
    if not await runtime.audit.recorded(conn, SIGNED_IN, "account", str(account_id)):
        return False  # the first sign-in after registration
    this = (device(user_agent), network(client_address))
    period = runtime.settings.retention.get(Retained.SESSIONS, DEFAULT_PERIODS[Retained.SESSIONS])
    for seen in await store.recent_origins(conn, account_id, datetime.now(UTC) - period, RECENT_SESSIONS):
        seen_agent = cipher.open_text(VaultField.SESSION_USER_AGENT, seen.user_agent) if seen.user_agent else None
        seen_address = (
            cipher.open_text(VaultField.SESSION_CLIENT_ADDRESS, seen.client_address) if seen.client_address else None
        )
        if (device(seen_agent), network(seen_address)) == this:
            return False
    return True


async def tell_of_new_device(
    runtime: Runtime, conn: asyncpg.Connection, account_id: UUID, client_address: str | None, user_agent: str | None
) -> bool:
    """Queue the notice to the account's verified contact; False when there is nobody to tell."""
    # ISO 8601: the courier writes it in the reader's language and format.
    when = datetime.now(ZoneInfo(runtime.settings.time_zone)).isoformat(timespec="minutes")
    variables = {"device": device(user_agent), "network": network(client_address), "at": when}
    return await notify(runtime, conn, account_id, NOTICE, variables)
