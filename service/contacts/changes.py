"""A signed-in person's own contacts: listing them, adding one (usable once its code proves it),
removing one after re-authentication, and choosing which one receives notices (issue 19).

An address being added waits in ``contact_additions`` and holds nothing: sign-in, codes and
notices read ``contacts`` only. Its code moves it there, replacing the account's contact of that
kind (a change) or joining it (an addition), and taking it from an account that registered it
without ever proving it; the unique constraint on contact addresses lets exactly one account prove
an address. Every addition, change and removal is told to the account's
other verified contacts, and a change or removal to the old address too, through the courier.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg

from service.accounts.masking import mask_email, mask_phone
from service.accounts.states import AccountEvent
from service.accounts.transitions import move
from service.audit import Actor, AuditEntry
from service.contacts import store
from service.contacts.codes import CodeCheck, ContactKind, check_purpose_code, send_purpose_code
from service.contacts.store import LockedContact
from service.courier.outbox import Message, queue_messages
from service.errors import Conflict, FieldProblem, Invalid, NotFound, checking
from service.runtime import Runtime
from service.sessions.reauthentication import confirm_password, reauthentication_failed
from service.sessions.sessions import Principal
from service.totp import factor
from service.vault import BlindIndex, OwnerCipher
from service.vault.labels import IndexPurpose, VaultField
from verification.contacts import email_key, normalize_email, normalize_mobile

# How long an address waits for its code before it is forgotten (retention: one_time_codes).
ADDITION_LIFETIME = timedelta(days=1)
NOTICE_WORDS = {ContactKind.EMAIL: "e-mail address", ContactKind.PHONE: "mobile number"}


@dataclass(frozen=True)
class OwnContact:
    id: UUID
    kind: ContactKind
    masked_address: str
    verified: bool
    receives_notices: bool


def addition_purpose(kind: ContactKind) -> str:
    """The one-time codes of an address being added: throttled per account and kind, whichever
    address is waiting, so replacing the address does not reset the throttle."""
    return f"add_{kind.value}"


def mask(kind: ContactKind, address: str) -> str:
    return mask_email(address) if kind is ContactKind.EMAIL else mask_phone(address)


def _key(kind: ContactKind, address: str) -> str:
    return email_key(address) if kind is ContactKind.EMAIL else address


def contact_not_found() -> NotFound:
    # Another account's id answers exactly as an unknown one.
    return NotFound("contact_not_found", "There is no such contact")


def address_taken() -> Conflict:
    # As registration refuses an identifier another account holds (accounts.registration).
    return Conflict(
        "identifier_taken",
        "Already registered",
        errors=[FieldProblem("address", "taken", "this address is already registered")],
    )


def normalize(runtime: Runtime, kind: ContactKind, address: str) -> str:
    with checking("address"):
        if kind is ContactKind.EMAIL:
            return normalize_email(address)
        return normalize_mobile(address, runtime.settings.default_phone_region)


async def list_contacts(runtime: Runtime, principal: Principal) -> list[OwnContact]:
    async with runtime.database.connection() as conn:
        cipher = await runtime.vault.open(conn, principal.account_id)
        rows = await store.list_for_account(conn, principal.account_id)
    chosen = any(row.receives_notices for row in rows)
    # Without a choice, notices go to the verified e-mail, else the verified phone (accounts.notices).
    default = next((row.id for row in rows if row.verified), None)
    contacts = []
    for row in rows:
        kind = row.kind
        contacts.append(
            OwnContact(
                row.id,
                kind,
                mask(kind, cipher.open_text(VaultField.contact(kind.value), row.address)),
                row.verified,
                row.receives_notices if chosen else row.id == default,
            )
        )
    return contacts


async def _tell(
    conn: asyncpg.Connection,
    cipher: OwnerCipher,
    recipients: list[tuple[str, str]],
    template: str,
    masked: str,
    kind: ContactKind,
) -> None:
    """Queue the security notice to each (kind, address), e-mail or SMS by the recipient's kind."""
    variables = {"contact": NOTICE_WORDS[kind], "address": masked}
    messages = [
        Message(template if recipient_kind == ContactKind.EMAIL.value else f"{template}_sms", address, variables)
        for recipient_kind, address in recipients
    ]
    if messages:
        await queue_messages(conn, cipher, messages)


async def _record(
    runtime: Runtime, conn: asyncpg.Connection, actor: Actor, action: str, account_id: UUID, kind: ContactKind
) -> None:
    await runtime.audit.append(conn, AuditEntry(actor, action, "account", str(account_id), {"kind": kind.value}))


def _verified(cipher: OwnerCipher, contacts: list[LockedContact], *, leaving_out: UUID | None) -> list[tuple[str, str]]:
    return [
        (row.kind.value, cipher.open_text(VaultField.contact(row.kind.value), row.address))
        for row in contacts
        if row.verified_at is not None and row.id != leaving_out
    ]


async def add_contact(runtime: Runtime, principal: Principal, kind: ContactKind, raw_address: str) -> OwnContact:
    """Keep the address waiting and send it a code; refused when another account holds it."""
    address = normalize(runtime, kind, raw_address)
    index = runtime.vault.blind_index
    indexes = index.digests(IndexPurpose.contact(kind.value), _key(kind, address))
    async with runtime.database.transaction() as conn:
        contacts = await store.lock_contacts(conn, principal.account_id)
        if any(row.kind is kind and row.address_index in indexes for row in contacts):
            raise Conflict("contact_exists", f"This {NOTICE_WORDS[kind]} is already yours")
        # An address another account registered but never proved is not theirs: it blocks nothing.
        if await store.proven_by_other(conn, kind.value, indexes, principal.account_id):
            raise address_taken()
        cipher = await runtime.vault.open(conn, principal.account_id)
        addition_id = uuid.uuid4()
        sealed = cipher.seal(VaultField.contact(kind.value), address)
        await store.put_addition(conn, addition_id, principal.account_id, kind.value, sealed, ADDITION_LIFETIME)
        # Throttled per account and kind (429 rolls the addition back with it).
        await send_purpose_code(conn, index, cipher, addition_purpose(kind), kind.purpose, address)
    return OwnContact(addition_id, kind, mask(kind, address), verified=False, receives_notices=False)


async def resend_code(runtime: Runtime, principal: Principal, addition_id: UUID) -> ContactKind:
    async with runtime.database.transaction() as conn:
        addition = await store.lock_addition(conn, principal.account_id, addition_id)
        if addition is None:
            raise contact_not_found()
        kind = addition.kind
        cipher = await runtime.vault.open(conn, principal.account_id)
        address = cipher.open_text(VaultField.contact(kind.value), addition.address)
        await send_purpose_code(conn, runtime.vault.blind_index, cipher, addition_purpose(kind), kind.purpose, address)
    return kind


async def _taken_under_previous_key(
    conn: asyncpg.Connection, index: BlindIndex, kind: ContactKind, key: str, account_id: UUID
) -> bool:
    previous = index.previous_digest(IndexPurpose.contact(kind.value), key) if index.rotating else None
    return (
        previous is not None
        and await store.taken_under_previous_key(conn, None, [(kind.value, previous)], account_id) is not None
    )


async def verify_addition(
    runtime: Runtime, principal: Principal, addition_id: UUID, code: str, actor: Actor
) -> OwnContact:
    """Prove the waiting address with its code: it becomes the account's contact of its kind."""
    index = runtime.vault.blind_index
    taken = False
    async with runtime.database.transaction() as conn:
        contacts = await store.lock_contacts(conn, principal.account_id)
        addition = await store.lock_addition(conn, principal.account_id, addition_id)
        if addition is None:
            raise contact_not_found()
        kind = addition.kind
        result = await check_purpose_code(conn, index, principal.account_id, addition_purpose(kind), code)
        if result is CodeCheck.ACCEPTED:
            cipher = await runtime.vault.open(conn, principal.account_id)
            address = cipher.open_text(VaultField.contact(kind.value), addition.address)
            key = _key(kind, address)
            # The address can no longer be proven by this account either way.
            await store.delete_addition(conn, addition_id)
            taken = await _taken_under_previous_key(conn, index, kind, key, principal.account_id)
            if not taken:
                try:
                    async with conn.transaction():
                        # Proven here, the address leaves an account that only registered it.
                        await store.release_unproven(
                            conn, kind.value, index.digests(IndexPurpose.contact(kind.value), key), principal.account_id
                        )
                        await store.put_verified(
                            conn,
                            addition_id,
                            principal.account_id,
                            kind.value,
                            addition.address,
                            index.digest(IndexPurpose.contact(kind.value), key),
                        )
                except asyncpg.UniqueViolationError as exc:
                    if exc.constraint_name != "contacts_address_unique":
                        raise
                    taken = True
            if not taken:
                # As the registration's code does: a first verified contact activates the account.
                await move(conn, principal.account_id, AccountEvent.CONTACT_VERIFIED, actor="self")
                replaced = next((row for row in contacts if row.kind is kind), None)
                told = _verified(cipher, contacts, leaving_out=None)
                template = "contact_changed" if replaced is not None and replaced.verified_at else "contact_added"
                await _tell(conn, cipher, told, template, mask(kind, address), kind)
                # The person's security log (audit.activity) shows it: the kind, never the address.
                await _record(runtime, conn, actor, "contact.added", principal.account_id, kind)
    # Outside the transaction: the spent attempt (and a refused address's removal) is committed.
    if result is CodeCheck.WRONG:
        raise Invalid("code_invalid", "The code is not right")
    if result is CodeCheck.NONE_LIVE:
        raise Invalid("code_expired", "There is no valid code: ask for a new one")
    if taken:
        raise address_taken()
    return next(c for c in await list_contacts(runtime, principal) if c.id == addition_id)


async def remove_contact(
    runtime: Runtime,
    principal: Principal,
    contact_id: UUID,
    password: str,
    totp_code: str | None,
    client_address: str,
    actor: Actor,
) -> None:
    """Remove a contact (or an address still waiting) after the password, and the TOTP code when
    enrolled; never the last verified contact."""
    await confirm_password(runtime, principal, password, client_address)
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, principal.account_id)
        if principal.totp_enabled and (not totp_code or not await factor.check_code(conn, cipher, totp_code)):
            raise reauthentication_failed()
        contacts = await store.lock_contacts(conn, principal.account_id)
        target = next((row for row in contacts if row.id == contact_id), None)
        if target is None:
            if await store.lock_addition(conn, principal.account_id, contact_id) is None:
                raise contact_not_found()
            await store.delete_addition(conn, contact_id)
            return
        remaining = _verified(cipher, contacts, leaving_out=contact_id)
        if not remaining:
            raise Conflict(
                "last_verified_contact",
                "The last verified contact cannot be removed: add and verify another first",
            )
        await store.delete_contact(conn, contact_id)
        kind = target.kind
        address = cipher.open_text(VaultField.contact(kind.value), target.address)
        told = [*([(kind.value, address)] if target.verified_at is not None else []), *remaining]
        await _tell(conn, cipher, told, "contact_removed", mask(kind, address), kind)
        await _record(runtime, conn, actor, "contact.removed", principal.account_id, kind)


async def choose_notice_recipient(runtime: Runtime, principal: Principal, contact_id: UUID) -> list[OwnContact]:
    async with runtime.database.transaction() as conn:
        contacts = await store.lock_contacts(conn, principal.account_id)
        target = next((row for row in contacts if row.id == contact_id), None)
        if target is None and await store.lock_addition(conn, principal.account_id, contact_id) is None:
            raise contact_not_found()
        if target is None or target.verified_at is None:
            raise Conflict("contact_not_verified", "Only a verified contact can receive notices")
        previous = await store.notice_recipient(conn, principal.account_id)
        await store.choose_notice_recipient(conn, principal.account_id, contact_id)
        if previous is not None and previous.id != contact_id:
            # Whoever received notices until now learns where they go from now on.
            cipher = await runtime.vault.open(conn, principal.account_id)
            kind = target.kind
            address = cipher.open_text(VaultField.contact(kind.value), target.address)
            previous_address = cipher.open_text(VaultField.contact(previous.kind.value), previous.address)
            told = [(previous.kind.value, previous_address)]
            await _tell(conn, cipher, told, "contact_notices_moved", mask(kind, address), kind)
    return await list_contacts(runtime, principal)
