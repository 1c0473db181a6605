"""One's own security log (issue 19): sign-ins, failed attempts, sign-outs, factor, password and contact
changes, recoveries, read from the audit trail that records them already (never written twice).

Each entry shows the device (a summary of the user agent) and the network (the address's /24 or /48 prefix;
no geo-IP database is used, so no place is claimed), opened from the entry's sealed origin. The log reaches back
as far as origins are kept (the ``audit_origins`` retention category): older entries have lost their origin's
key and are not shown. Only entries about one's own account are read, and origins only of what the person did or
anonymous callers tried against the account, never of an operator's action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from service.audit import store
from service.retention_categories import DEFAULT_PERIODS, Retained
from service.runtime import Runtime
from service.vault import VaultError
from verification.devices import UNKNOWN_DEVICE, UNKNOWN_NETWORK, device, network

# Audit action -> the event one's log shows. The changes and recoveries of issue 19 record these actions.
EVENTS: dict[str, str] = {
    "session.signed_in": "signed_in",
    "session.sign_in_failed": "sign_in_failed",
    "session.signed_out": "signed_out",
    "totp.enabled": "second_factor_added",
    "totp.removed": "second_factor_removed",
    "account.password_changed": "password_changed",
    "contact.added": "contact_added",
    "contact.removed": "contact_removed",
    "account.recovered": "recovery_used",
    "passkey.added": "passkey_added",
    "passkey.removed": "passkey_removed",
    "passkey.counter_regressed": "passkey_counter_regressed",
}
# Details an entry may show, by name: codes, never values.
_SHOWN_DETAILS = frozenset({"reason", "assurance", "kind"})


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    entry_id: int
    at: datetime
    event: str
    device: str
    network: str
    details: dict[str, str | int | bool | None]


@dataclass(frozen=True, slots=True)
class ActivityPage:
    entries: list[ActivityEntry]
    next_before: int | None  # pass as ``before`` for the next (older) page


def activity_retention(runtime: Runtime) -> datetime:
    """The oldest moment the log reaches back to."""
    period = runtime.settings.retention.get(Retained.AUDIT_ORIGINS, DEFAULT_PERIODS[Retained.AUDIT_ORIGINS])
    return datetime.now(UTC) - period


async def activity_of(runtime: Runtime, account_id: UUID, before: int | None, limit: int) -> ActivityPage:
    async with runtime.database.transaction() as conn:
        found = await store.activity_of(conn, account_id, list(EVENTS), activity_retention(runtime), before, limit + 1)
        open_origin = runtime.audit.origin_opener(conn)
        entries = []
        for row in found[:limit]:
            shown_device, shown_network = UNKNOWN_DEVICE, UNKNOWN_NETWORK
            if row.origin is not None:
                try:
                    origin = await open_origin(row.origin)
                except VaultError:
                    origin = None  # the month's key is gone: the origin has ended
                if origin is not None:
                    shown_device, shown_network = device(origin.user_agent), network(origin.client_address)
            recorded = msgspec.json.decode(row.details)
            details = {name: value for name, value in recorded.items() if name in _SHOWN_DETAILS}
            entries.append(ActivityEntry(row.id, row.at, EVENTS[row.action], shown_device, shown_network, details))
    next_before = entries[-1].entry_id if len(found) > limit else None
    return ActivityPage(entries, next_before)
