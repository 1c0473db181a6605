"""HTTP for reading the audit trail about one target (admins and privacy officers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from service.audit import AuditEntry, store
from service.http.dependencies import CurrentRuntime
from service.operators.auth import allow, operator_guard
from service.operators.roles import AUDIT_READERS
from service.operators.routes import CurrentOperator


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
        async with runtime.database.transaction() as conn:
            rows = await store.for_target(conn, target_type, target_id, limit)
            await runtime.audit.append(
                conn, AuditEntry(operator.actor, "audit.read", target_type, target_id, {"entries": len(rows)})
            )
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
