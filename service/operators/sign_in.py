"""Operator sign-in: e-mail, password and a TOTP code, all three every time.

Every failure gets the same answer and costs the same argon2 time, whichever part was wrong;
failures are throttled like users' and audited with the operator's id when one was named.
With passkeys required (IDV_OPERATOR_REQUIRE_PASSKEY) the session is restricted to enrolling a
first passkey, and an operator who has one is refused here: they sign in with it
(service.operators.passkeys).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import pyotp

from service.audit import Actor, AuditEntry
from service.audit.entries import DetailValue
from service.errors import Forbidden, Unauthenticated
from service.operators import store
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime
from service.sessions.throttle import SignInThrottle
from service.sessions.tokens import looks_like_token, new_token, token_digest
from service.totp.factor import matching_step
from service.vault.labels import IndexPurpose, VaultField
from verification.contacts import email_key, normalize_email
from verification.errors import InvalidValue
from verification.passwords import normalize_password


@dataclass(frozen=True)
class OperatorSignIn:
    email: str
    password: str
    totp_code: str
    client_address: str
    user_agent: str | None
    # The API (a bearer token) or the console (its cookie): the session works only there.
    channel: store.SessionChannel = store.SessionChannel.API


@dataclass(frozen=True)
class NewOperatorSession:
    session_id: UUID
    token: str
    expires_at: datetime
    # Passkeys are required and this one signed in without: it may only enrol the first.
    restricted: bool = False


_DUMMY_SECRET = pyotp.random_base32(length=32)


def _refused() -> Unauthenticated:
    return Unauthenticated("invalid_credentials", "The e-mail address, password or code is wrong")


async def _find(runtime: Runtime, email: str) -> tuple[str, store.Operator | None]:
    try:
        key = email_key(normalize_email(email))
    except InvalidValue:
        return email.casefold(), None
    digests = runtime.vault.blind_index.digests(IndexPurpose.OPERATOR_EMAIL, key)
    async with runtime.database.connection() as conn:
        return key, await store.by_email(conn, digests)


async def sign_in_operator(runtime: Runtime, attempt: OperatorSignIn) -> NewOperatorSession:
    key, row = await _find(runtime, attempt.email)
    throttle = SignInThrottle(runtime.vault.blind_index)
    person = f"operator:{row.id}" if row is not None else f"operator-identifier:{key}"
    subjects = throttle.subjects(person, attempt.client_address)
    async with runtime.database.transaction() as conn:
        await throttle.reserve(conn, subjects)
    actor = Actor.anonymous(attempt.client_address, attempt.user_agent)

    password = normalize_password(attempt.password)
    usable = row is not None and row.enrolled_at is not None and row.disabled_at is None
    if row is None or row.password_hash is None:
        await runtime.passwords.verify_unknown(password)
        checked = False
    else:
        checked = (await runtime.passwords.verify(row.password_hash, password)).matches
    if row is None or not (usable and checked):
        # The TOTP check costs the same whether or not the password was right.
        matching_step(_DUMMY_SECRET, attempt.totp_code)
        await _audit_failure(runtime, actor, row)
        raise _refused()

    operator = Actor.operator(row.id, attempt.client_address, attempt.user_agent)
    cipher = runtime.vault.open_wrapped(row.id, row.master_key_id, row.wrapped_key)
    assert row.totp_secret is not None  # enrolment stores the secret before it completes
    step = matching_step(cipher.open_text(VaultField.OPERATOR_TOTP, row.totp_secret), attempt.totp_code)
    token = new_token()
    session_id = uuid.uuid4()
    expires_at = datetime.now(UTC) + runtime.settings.operator_session_absolute_timeout
    required = runtime.settings.operator_require_passkey
    has_passkey = False
    async with runtime.database.transaction() as conn:
        if step is None or not await store.claim_step(conn, row.id, step):
            failed = True
        else:
            failed = False
            await throttle.succeeded(conn, subjects)
            # Passkeys required: one who has a passkey signs in with it; one who has none gets a
            # session that may only enrol it (service.operators.auth).
            has_passkey = required and bool(await store.passkeys_of(conn, row.id))
            if not has_passkey:
                await store.insert_session(
                    conn, session_id, row.id, token_digest(token), expires_at, channel=attempt.channel
                )
                details: dict[str, DetailValue] = {
                    "kind": "password_totp",
                    "session_id": str(session_id),
                    "restricted": required,
                    "channel": attempt.channel.value,
                }
                await runtime.audit.append(
                    conn, AuditEntry(operator, "operator.signed_in", "operator", str(row.id), details)
                )
    if failed:
        await _audit_failure(runtime, actor, row)
        raise _refused()
    if has_passkey:
        await _audit_failure(runtime, actor, row, "passkey_required")
        raise Forbidden("passkey_required", "Operators must sign in with a passkey")
    return NewOperatorSession(session_id, token, expires_at, restricted=required)


async def sign_out_operator(runtime: Runtime, operator: OperatorPrincipal) -> None:
    """End the operator's session (the API's and the console's sign-out), audited."""
    async with runtime.database.transaction() as conn:
        await store.end_session(conn, operator.session_id, "signed_out")
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "operator.signed_out", "operator", str(operator.operator_id))
        )


async def end_replaced_session(runtime: Runtime, token: str, actor: Actor) -> None:
    """A new sign-in in a browser that still holds a live console session (the console's cookie)
    ends that one, so a browser holds one session at a time; an API session's token is not the
    console's to end."""
    if not looks_like_token(token):
        return
    row = await store.resolve_session(
        runtime.database.pool, token_digest(token), runtime.settings.operator_session_idle_timeout
    )
    if row is None or row.channel is not store.SessionChannel.CONSOLE:
        return
    async with runtime.database.transaction() as conn:
        await store.end_session(conn, row.id, "replaced")
        await runtime.audit.append(
            conn, AuditEntry(actor, "operator.session_replaced", "operator", str(row.operator_id))
        )


async def _audit_failure(runtime: Runtime, actor: Actor, row: store.Operator | None, reason: str | None = None) -> None:
    target = str(row.id) if row is not None else ""
    details = {"reason": reason} if reason else {}
    await runtime.audit.append_alone(AuditEntry(actor, "operator.sign_in_failed", "operator", target, details))


def reauthentication_failed() -> Forbidden:
    return Forbidden("reauthentication_failed", "The password is wrong")


async def confirm_operator_password(runtime: Runtime, operator_id: UUID, password: str, client_address: str) -> None:
    """Re-entering the password before a change to the operator's own sign-in (a passkey added or
    removed): throttled on sign-in's counters, so a stolen session cannot guess it."""
    throttle = SignInThrottle(runtime.vault.blind_index)
    subjects = throttle.subjects(f"operator:{operator_id}", client_address)
    async with runtime.database.transaction() as conn:
        await throttle.reserve(conn, subjects)
        row = await store.by_id(conn, operator_id)
    password = normalize_password(password)
    if row is None or row.password_hash is None:
        await runtime.passwords.verify_unknown(password)
        raise reauthentication_failed()
    if not (await runtime.passwords.verify(row.password_hash, password)).matches:
        raise reauthentication_failed()
    async with runtime.database.transaction() as conn:
        await throttle.succeeded(conn, subjects)
