"""What operators' confirmation of a child's guardian does."""

from __future__ import annotations

import asyncpg

from service.cases.records import Case
from service.cases.states import CaseState, is_closed
from service.consents.effects import withdraw_on_behalf
from service.guardians import store
from service.guardians.consent import PURPOSES_FOR_SCOPE, activate_minor
from service.guardians.store import GuardianshipState


async def guardian_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    if not is_closed(after):
        return
    guardianship = await store.lock_for_case(conn, case.id)
    if guardianship is None or guardianship.state is not GuardianshipState.PENDING_REVIEW:
        return
    if after is CaseState.APPROVED:
        await store.set_state(conn, guardianship.id, GuardianshipState.ACTIVE)
        await activate_minor(conn, guardianship.minor_account_id, guardianship.guardian_account_id)
        return
    # Not confirmed: the consent given in the guardian's name does not stand.
    await store.set_state(conn, guardianship.id, GuardianshipState.REFUSED, end_reason=case.reason_code)
    purposes = [PURPOSES_FOR_SCOPE[s].value for s in guardianship.scopes]
    await withdraw_on_behalf(
        conn, guardianship.minor_account_id, purposes, guardianship.guardian_account_id, "guardian_refused"
    )
