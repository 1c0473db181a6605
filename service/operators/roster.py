"""The operators, as admins see and manage them: the list (e-mail addresses opened), and disabling
one, which ends their sessions. Creating and approving are enrolment's (service.operators.enrolment).
The operator API and the console (service.console) both call these."""

from __future__ import annotations

from uuid import UUID

import msgspec

from service.audit import Actor, AuditEntry
from service.errors import Conflict, NotFound
from service.operators import store
from service.operators.schemas import OperatorSummary
from service.runtime import Runtime
from service.vault.labels import VaultField


class ListedOperator(msgspec.Struct, frozen=True):
    summary: OperatorSummary
    # Who created it (an actor's label): enrolment.may_approve reads it.
    created_by: str


async def list_operators(runtime: Runtime) -> list[ListedOperator]:
    """All operators, oldest first."""
    async with runtime.database.connection() as conn:
        rows = await store.list_all(conn)
    listed = []
    for row in rows:
        cipher = runtime.vault.open_wrapped(row.id, row.master_key_id, row.wrapped_key)
        summary = OperatorSummary(
            operator_id=row.id,
            email=cipher.open_text(VaultField.OPERATOR_EMAIL, row.email),
            roles=list(row.roles),
            approved=row.approved_at is not None,
            enrolled=row.enrolled_at is not None,
            disabled=row.disabled_at is not None,
            created_at=row.created_at,
        )
        listed.append(ListedOperator(summary, row.created_by))
    return listed


async def disable_operator(runtime: Runtime, operator_id: UUID, by: Actor, *, own_id: UUID) -> None:
    """Disable an operator and end their sessions; an admin never disables themselves (another must)."""
    if operator_id == own_id:
        raise Conflict("cannot_disable_self", "Another admin must disable your account")
    async with runtime.database.transaction() as conn:
        if not await store.disable(conn, operator_id):
            raise NotFound("operator_not_found", "No such active operator")
        await runtime.audit.append(conn, AuditEntry(by, "operator.disabled", "operator", str(operator_id)))
