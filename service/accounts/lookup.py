"""An operator's view of an account, found by e-mail, mobile number or identity number, or by id.

The identifier is normalized as registration (e-mail, mobile) and real-name verification (identity
number) normalize what they store, then matched exactly through its blind index under each key in
use: a contact's index, or the index of a number an account is verified with. Nothing sealed is
searched, and nothing but an exact match is found. An identity number may be verified on more than
one account (up to ``IDV_IDENTITY_ACCOUNTS_LIMIT``), so a look-up answers a list.

Every look-up is audited with the operator, the kind of identifier and the reason, never the
identifier itself (``account.looked_up`` about each account found, ``account.lookup_missed`` about
the operator when none is); a view by id is ``account.viewed``. The view holds what the operator's
roles may see: the account's cases of the types they cover, and its contacts masked.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec

from service.accounts import store
from service.accounts.masking import mask_email, mask_phone
from service.accounts.reasons import RESTRICTION_REASONS
from service.accounts.states import AccountEvent, AccountState
from service.audit import AuditEntry
from service.cases.catalogue import CaseType
from service.cases.queue import cases_of_subject
from service.cases.states import CaseState, is_closed
from service.contacts import store as contacts
from service.errors import NotFound, checking
from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody
from service.operators.auth import OperatorPrincipal
from service.realname.lookup import accounts_verified_as, number_to_look_up
from service.runtime import Runtime
from service.vault.labels import IndexPurpose, VaultField
from verification.contacts import email_key, normalize_email, normalize_mobile


class IdentifierKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    ID_NUMBER = "id_number"


class LookupReason(StrEnum):
    """Why an operator looks an account up (recorded in the audit trail)."""

    # The person asked: support, or a data-rights request naming their address or number.
    USER_REQUEST = "user_request"
    FRAUD_INVESTIGATION = "fraud_investigation"
    # An authority's request the service must answer.
    LEGAL_OBLIGATION = "legal_obligation"
    # Checking an account before a measure (restriction, termination) or after a case.
    ACCOUNT_REVIEW = "account_review"


class AccountLookup(RequestBody):
    kind: IdentifierKind
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=320, pattern=NO_CONTROL_CHARACTERS)]
    reason: LookupReason


class MaskedContact(msgspec.Struct):
    kind: str
    masked: str
    verified: bool


class StateChangeView(msgspec.Struct):
    from_state: AccountState | None
    to_state: AccountState
    event: AccountEvent
    # ``self``, ``operator:<id>`` or ``system:<job>``.
    actor: str
    reason_code: str | None
    case_id: UUID | None
    at: datetime


class RestrictionPeriod(msgspec.Struct):
    """A restriction, from the change that placed it to the one that lifted it (None: not lifted)."""

    reason_code: str
    description: str
    restricted_at: datetime
    restricted_by: str
    lifted_at: datetime | None
    lift_reason_code: str | None
    lifted_by: str | None


class AccountCase(msgspec.Struct):
    case_id: UUID
    case_type: CaseType
    state: CaseState
    due_at: datetime
    created_at: datetime
    closed: bool


class OperatorAccountView(msgspec.Struct):
    account_id: UUID
    state: AccountState
    created_at: datetime
    in_doubt: bool
    contacts: list[MaskedContact]
    restrictions: list[RestrictionPeriod]
    state_history: list[StateChangeView]
    # Only the types the operator's roles cover.
    cases: list[AccountCase]


class AccountsFound(msgspec.Struct):
    accounts: list[OperatorAccountView]


LIFTING = frozenset({AccountEvent.RESTRICTION_LIFTED, AccountEvent.RESTRICTION_LIFTED_UNVERIFIED})


def account_not_found() -> NotFound:
    return NotFound("account_not_found", "No account has this identifier")


def restriction_periods(history: list[store.StateHistoryEntry]) -> list[RestrictionPeriod]:
    """The account's restrictions, newest first, read from its state history."""
    periods: list[RestrictionPeriod] = []
    for change in history:
        if change.event is AccountEvent.RESTRICTED:
            reason = change.reason_code or ""
            known = RESTRICTION_REASONS.get(reason)
            periods.append(
                RestrictionPeriod(reason, known.internal if known else "", change.at, change.actor, None, None, None)
            )
        elif change.event in LIFTING and periods and periods[-1].lifted_at is None:
            periods[-1].lifted_at = change.at
            periods[-1].lift_reason_code = change.reason_code
            periods[-1].lifted_by = change.actor
    return periods[::-1]


async def _view(
    conn: asyncpg.Connection, runtime: Runtime, operator: OperatorPrincipal, account_id: UUID
) -> OperatorAccountView | None:
    overview = await store.fetch_overview(conn, account_id)
    if overview is None:
        return None
    history = await store.state_history(conn, account_id)
    rows = await contacts.list_for_account(conn, account_id)
    masked = []
    if rows:
        cipher = await runtime.vault.open(conn, account_id)
        for row in rows:
            address = cipher.open_text(VaultField.contact(row.kind.value), row.address)
            shown = mask_email(address) if row.kind is contacts.ContactKind.EMAIL else mask_phone(address)
            masked.append(MaskedContact(row.kind.value, shown, row.verified))
    cases = [
        AccountCase(c.case_id, c.case_type, c.state, c.due_at, c.created_at, is_closed(c.state))
        for c in await cases_of_subject(conn, operator, account_id)
    ]
    return OperatorAccountView(
        account_id=overview.id,
        state=overview.state,
        created_at=overview.created_at,
        in_doubt=overview.in_doubt,
        contacts=masked,
        restrictions=restriction_periods(history),
        state_history=[
            StateChangeView(c.from_state, c.to_state, c.event, c.actor, c.reason_code, c.case_id, c.at)
            for c in reversed(history)
        ],
        cases=cases,
    )


async def _matching(runtime: Runtime, conn: asyncpg.Connection, lookup: AccountLookup) -> list[UUID]:
    index = runtime.vault.blind_index
    if lookup.kind is IdentifierKind.ID_NUMBER:
        number = number_to_look_up(lookup.value, runtime.settings.today(), "value")
        return await accounts_verified_as(conn, index, number)
    with checking("value"):
        if lookup.kind is IdentifierKind.EMAIL:
            key = email_key(normalize_email(lookup.value))
        else:
            key = normalize_mobile(lookup.value, runtime.settings.default_phone_region)
    found = await contacts.find_account(conn, lookup.kind.value, index.digests(IndexPurpose.contact(lookup.kind), key))
    return [found.id] if found else []


async def look_up(runtime: Runtime, operator: OperatorPrincipal, lookup: AccountLookup) -> AccountsFound:
    """The accounts the identifier names exactly (NotFound if none); audited either way."""
    details = {"kind": lookup.kind.value, "reason": lookup.reason.value}
    async with runtime.database.transaction() as conn:
        views = [
            view
            for account_id in await _matching(runtime, conn, lookup)
            if (view := await _view(conn, runtime, operator, account_id))
        ]
        for view in views:
            await runtime.audit.append(
                conn, AuditEntry(operator.actor, "account.looked_up", "account", str(view.account_id), details)
            )
    if not views:
        await runtime.audit.append_alone(
            AuditEntry(operator.actor, "account.lookup_missed", "operator", str(operator.operator_id), details)
        )
        raise account_not_found()
    return AccountsFound(views)


async def account_view(runtime: Runtime, operator: OperatorPrincipal, account_id: UUID) -> OperatorAccountView:
    """The account by its id (NotFound if there is none); audited."""
    async with runtime.database.transaction() as conn:
        view = await _view(conn, runtime, operator, account_id)
        if view is None:
            raise NotFound("account_not_found", "No such account")
        await runtime.audit.append(conn, AuditEntry(operator.actor, "account.viewed", "account", str(account_id)))
    return view
