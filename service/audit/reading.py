"""Reading the trail about one target, for admins and privacy officers (the operator API's audit
endpoint and the console's audit page): the reading is itself an entry of the trail."""

from __future__ import annotations

from service.audit import store
from service.audit.entries import Actor, AuditEntry
from service.audit.store import AuditLogEntry
from service.runtime import Runtime


async def entries_about(
    runtime: Runtime, reader: Actor, target_type: str, target_id: str, limit: int
) -> list[AuditLogEntry]:
    """The newest ``limit`` entries about the target, newest first; recorded as ``audit.read``."""
    async with runtime.database.transaction() as conn:
        rows = await store.for_target(conn, target_type, target_id, limit)
        await runtime.audit.append(
            conn, AuditEntry(reader, "audit.read", target_type, target_id, {"entries": len(rows)})
        )
    return rows
