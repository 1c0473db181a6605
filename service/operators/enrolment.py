"""Creating operators and their enrolment: a one-time code, then a password and a TOTP secret.

Dual control: an operator an admin creates through the API waits until a *different* admin
approves it; only then is the enrolment code made, and it is e-mailed to the new operator, so
no admin ever holds another operator's code (one admin could otherwise enrol two identities and
pass four eyes alone). `idv operators create`, run by whoever runs the service, creates and
approves at once and prints the code: it is how the first admins come to exist. The code is
stored only as a digest. TOTP is not optional: enrolment ends only when a code from the new
secret is confirmed.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import asyncpg
import pyotp

from service.audit import Actor, AuditEntry
from service.courier.outbox import Message, queue_messages
from service.errors import Conflict, Forbidden, NotFound, Rejected, checking
from service.operators import store
from service.operators.roles import Role
from service.operators.schemas import EnrolmentFactor, NewOperator
from service.runtime import Runtime
from service.sessions.tokens import token_digest
from service.totp.factor import STEP_SECONDS, matching_step
from service.vault.labels import IndexPurpose, VaultField
from verification.contacts import email_key, normalize_email


def _invalid_enrolment() -> NotFound:
    return NotFound("enrolment_invalid", "This enrolment code is unknown, used or expired")


async def _insert(
    runtime: Runtime, conn: asyncpg.Connection, email: str, roles: list[Role], creator: Actor
) -> uuid.UUID:
    with checking("email"):
        address = normalize_email(email)
    previous = runtime.vault.blind_index.previous_digest(IndexPurpose.OPERATOR_EMAIL, email_key(address))
    if previous is not None and await store.by_email(conn, [previous]) is not None:
        raise Conflict("operator_exists", "An operator with this e-mail address exists")
    operator_id = uuid.uuid4()
    cipher = await runtime.vault.create_key(conn, operator_id)
    created = await store.insert(
        conn,
        operator_id=operator_id,
        email=cipher.seal_text(VaultField.OPERATOR_EMAIL, address),
        email_index=runtime.vault.blind_index.digest(IndexPurpose.OPERATOR_EMAIL, email_key(address)),
        roles=sorted({role.value for role in roles}),
        created_by=creator.label,
    )
    if not created:
        raise Conflict("operator_exists", "An operator with this e-mail address exists")
    details = {"roles": ",".join(sorted(r.value for r in roles))}
    await runtime.audit.append(conn, AuditEntry(creator, "operator.created", "operator", str(operator_id), details))
    return operator_id


async def _issue_code(
    runtime: Runtime, conn: asyncpg.Connection, operator_id: uuid.UUID, approver: Actor
) -> NewOperator:
    code = secrets.token_urlsafe(24)
    expires_at = datetime.now(UTC) + runtime.settings.operator_enrolment_lifetime
    await store.approve(conn, operator_id, approver.label, token_digest(code), expires_at)
    await runtime.audit.append(conn, AuditEntry(approver, "operator.approved", "operator", str(operator_id)))
    return NewOperator(operator_id, code, expires_at)


async def create_operator(runtime: Runtime, email: str, roles: list[Role], creator: Actor) -> NewOperator:
    """Create and approve at once, returning the code: for the command line only."""
    async with runtime.database.transaction() as conn:
        operator_id = await _insert(runtime, conn, email, roles, creator)
        return await _issue_code(runtime, conn, operator_id, creator)


async def request_operator(runtime: Runtime, email: str, roles: list[Role], creator: Actor) -> uuid.UUID:
    """Create an operator that waits for a second admin's approval."""
    async with runtime.database.transaction() as conn:
        return await _insert(runtime, conn, email, roles, creator)


def may_approve(created_by: str, approver: Actor) -> bool:
    """Dual control: whoever created an operator (``created_by``, an actor's label) never approves it."""
    return created_by != approver.label


async def approve_operator(runtime: Runtime, operator_id: uuid.UUID, approver: Actor) -> datetime:
    """A different admin approves; the enrolment code goes to the operator's own address."""
    async with runtime.database.transaction() as conn:
        row = await store.lock(conn, operator_id)
        if row is None or row.disabled_at is not None:
            raise NotFound("operator_not_found", "No such operator")
        if row.approved_at is not None:
            raise Conflict("operator_already_approved", "This operator is approved already")
        if not may_approve(row.created_by, approver):
            raise Forbidden("four_eyes_same_operator", "Another admin must approve the operator you created")
        issued = await _issue_code(runtime, conn, operator_id, approver)
        cipher = runtime.vault.open_wrapped(row.id, row.master_key_id, row.wrapped_key)
        hours = str(int(runtime.settings.operator_enrolment_lifetime.total_seconds() // 3600))
        address = cipher.open_text(VaultField.OPERATOR_EMAIL, row.email)
        await queue_messages(
            conn, cipher, [Message("operator_enrolment", address, {"code": issued.enrolment_code, "hours": hours})]
        )
        return issued.enrolment_expires_at


async def begin_enrolment(runtime: Runtime, code: str, password: str, actor: Actor) -> EnrolmentFactor:
    with checking("password"):
        password_hash = await runtime.passwords.hash_new(password)
    secret = pyotp.random_base32(length=32)
    async with runtime.database.transaction() as conn:
        row = await store.by_enrolment(conn, token_digest(code))
        if row is None:
            raise _invalid_enrolment()
        cipher = runtime.vault.open_wrapped(row.id, row.master_key_id, row.wrapped_key)
        await store.set_pending_factors(conn, row.id, password_hash, cipher.seal_text(VaultField.OPERATOR_TOTP, secret))
        email = cipher.open_text(VaultField.OPERATOR_EMAIL, row.email)
        await runtime.audit.append(conn, AuditEntry(actor, "operator.enrolment_started", "operator", str(row.id)))
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=f"{runtime.settings.public_name} operators"
    )
    return EnrolmentFactor(secret, uri)


async def confirm_enrolment(runtime: Runtime, code: str, totp_code: str, actor: Actor) -> None:
    async with runtime.database.transaction() as conn:
        row = await store.by_enrolment(conn, token_digest(code))
        if row is None:
            raise _invalid_enrolment()
        if row.totp_secret is None:
            raise Conflict("enrolment_not_started", "Choose a password and get the TOTP secret first")
        cipher = runtime.vault.open_wrapped(row.id, row.master_key_id, row.wrapped_key)
        step = matching_step(cipher.open_text(VaultField.OPERATOR_TOTP, row.totp_secret), totp_code)
        if step is None:
            raise Rejected("invalid_second_factor", "The code from the authenticator app is wrong")
        await store.complete_enrolment(conn, row.id, step)
        await runtime.audit.append(conn, AuditEntry(actor, "operator.enrolled", "operator", str(row.id)))
