"""The operators, as admins see and manage them: the list (e-mail addresses opened), and disabling
one, which ends their sessions. Creating and approving are enrolment's (service.operators.enrolment).
The operator API and the console (service.console) both call these."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import msgspec

from service.accounts.masking import mask_email
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


async def operator_names(runtime: Runtime, operator_ids: Iterable[UUID]) -> dict[UUID, str]:
    """How a page names these operators to another operator: operators have no display name, so
    each is their e-mail masked (``al***@example.com``: enough to tell colleagues apart, not an
    address to write to). Read in one query for the whole page; an id that names no operator
    (or an id that is no operator's) is absent, and the page shows the id."""
    wanted = sorted(set(operator_ids))
    if not wanted:
        return {}
    async with runtime.database.connection() as conn:
        rows = await store.sealed_emails(conn, wanted)
    names = {}
    for row in rows:
        cipher = runtime.vault.open_wrapped(row.id, row.master_key_id, row.wrapped_key)
        names[row.id] = mask_email(cipher.open_text(VaultField.OPERATOR_EMAIL, row.email))
    return names


async def disable_operator(runtime: Runtime, operator_id: UUID, by: Actor, *, own_id: UUID) -> None:
    """Disable an operator and end their sessions; an admin never disables themselves (another must)."""
    if operator_id == own_id:
        raise Conflict("cannot_disable_self", "Another admin must disable your account")
    async with runtime.database.transaction() as conn:
        if not await store.disable(conn, operator_id):
            raise NotFound("operator_not_found", "No such active operator")
        await runtime.audit.append(conn, AuditEntry(by, "operator.disabled", "operator", str(operator_id)))
