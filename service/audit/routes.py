"""HTTP for reading the audit trail about one target (admins and privacy officers), and one's own security log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import CacheControlHeader
from litestar.params import QueryParameter

from service.audit.activity import activity_of
from service.audit.reading import entries_about
from service.http.dependencies import CurrentRuntime, SignedIn
from service.operators.auth import allow, operator_guard
from service.operators.roles import AUDIT_READERS
from service.operators.routes import CurrentOperator
from service.sessions.auth import SELF_SERVICE


class AuditRecord(msgspec.Struct):
    entry_id: int
    at: datetime
    actor_type: str
    actor_id: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, str | int | bool | None]


class AuditController(Controller):
    path = "/v1/operator/audit"
    tags = ["audit"]
    guards = [operator_guard]

    @get("/", summary="Audit entries about one target, newest first (reading is audited too)", opt=allow(AUDIT_READERS))
    async def for_target(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        target_type: Annotated[str, QueryParameter(pattern=r"^[a-z_]{1,32}$")],
        target_id: Annotated[str, QueryParameter(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[AuditRecord]:
        rows = await entries_about(runtime, operator.actor, target_type, target_id, limit)
        return [
            AuditRecord(
                entry_id=row.id,
                at=row.at,
                actor_type=row.actor_type,
                actor_id=row.actor_id,
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                details=msgspec.json.decode(row.details),
            )
            for row in rows
        ]


class ActivityRecord(msgspec.Struct):
    entry_id: int
    at: datetime
    # signed_in, sign_in_failed, signed_out, second_factor_added, second_factor_removed, password_changed,
    # contact_added, contact_removed, recovery_used, passkey_added, passkey_removed, passkey_counter_regressed
    # (a sign-in refused because the passkey's counter went backwards: it may have been copied)
    event: str
    # The user agent summarised ("Firefox on Windows"), or "an unknown device".
    device: str
    # The address's prefix (an IPv4 /24, an IPv6 /48; no place is claimed), or "an unknown network".
    network: str
    details: dict[str, str | int | bool | None]


class ActivityPageView(msgspec.Struct):
    entries: list[ActivityRecord]
    # Pass as ``before`` for the next, older page; null on the last page.
    next_before: int | None


class ActivityController(Controller):
    path = "/v1/me/activity"
    tags = ["sessions"]

    @get(
        "/",
        summary="One's security log, newest first: sign-ins with device and network, failed attempts, changes",
        opt=SELF_SERVICE,
        cache_control=CacheControlHeader(no_store=True),
    )
    async def own(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        before: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> ActivityPageView:
        page = await activity_of(runtime, principal.account_id, before, limit)
        return ActivityPageView(
            [ActivityRecord(e.entry_id, e.at, e.event, e.device, e.network, e.details) for e in page.entries],
            page.next_before,
        )
