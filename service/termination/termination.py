"""Terminating an account for false information or abuse.

A senior reviewer proposes it (a case about the account, with the reason); a second operator
confirms (the case type always takes four eyes). Confirmation ends the account's sessions, moves
it to ``terminated`` and, for false information, bars its verified identity number from being
verified again on any account for ``IDV_TERMINATION_BAR`` (only the keyed blind index is kept,
and only that long). The personal data itself follows the retention rules and erasure.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec

from service.accounts import store as accounts
from service.accounts.states import AccountEvent, states_allowing
from service.audit import AuditEntry
from service.cases.cases import conclude_checks, open_case
from service.cases.catalogue import CaseType
from service.cases.schemas import Evidence
from service.cases.states import CaseEvent
from service.errors import Conflict, NotFound
from service.http.schemas import FREE_TEXT, RequestBody
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime
from service.termination import store

TERMINABLE = states_allowing(AccountEvent.TERMINATED)


class TerminationReason(StrEnum):
    FALSE_INFORMATION = "false_information"
    ABUSE = "abuse"


class TerminationProposal(RequestBody):
    reason: TerminationReason
    note: Annotated[str, msgspec.Meta(min_length=10, max_length=2000, pattern=FREE_TEXT)]


async def propose(
    runtime: Runtime, operator: OperatorPrincipal, account_id: UUID, proposal: TerminationProposal
) -> UUID:
    bar_days = str(runtime.settings.termination_bar.days)
    async with runtime.database.transaction() as conn:
        state = await accounts.lock_state(conn, account_id)
        if state is None:
            raise NotFound("account_not_found", "No such account")
        if state not in TERMINABLE:
            raise Conflict("illegal_transition", f"A {state} account cannot be terminated")
        case = await open_case(
            conn,
            runtime.vault,
            case_type=CaseType.ACCOUNT_TERMINATION,
            subject_account_id=account_id,
            evidence=[
                Evidence("reason", proposal.reason.value, proposal.reason.value),
                Evidence("proposal", proposal.note, f"{len(proposal.note)} characters"),
                # How long a confirmed termination bars the identity, as configured when proposed.
                Evidence("bar_days", bar_days, bar_days),
            ],
            actor=operator.actor,
        )
        await conclude_checks(conn, case.id, CaseEvent.REFER, [], reason_code="checks_inconclusive")
        details = {"case": str(case.id), "reason": proposal.reason.value}
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "account.termination_proposed", "account", str(account_id), details)
        )
    return case.id


async def is_barred(conn: asyncpg.Connection, id_number_indexes: list[bytes]) -> bool:
    """Whether the number (its index under each blind-index key in use) is barred."""
    return await store.is_barred(conn, id_number_indexes)
