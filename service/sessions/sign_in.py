"""Sign-in with an identifier (e-mail, phone or username), a password, and TOTP when enrolled.

Unknown identifiers cost the same argon2 time as known ones and get the same answer; their
failed attempts are throttled like an account's, so throttling reveals nothing either.

A person held back after too many failures (from one address, or from all) is answered exactly as
a wrong password is, after the same argon2 time: a 429 there would tell that the e-mail just
guessed at and the username tried next belong to one account. The owner learns of the lock from a
notice to their verified contact instead. Only a held-back *address* gets 429: that says nothing
about any account.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from service.accounts import store as accounts
from service.accounts.notices import notify
from service.accounts.states import CAN_SIGN_IN, AccountState
from service.audit import Actor, AuditEntry
from service.audit.entries import DetailValue
from service.contacts import store as contacts
from service.errors import Unauthenticated
from service.runtime import Runtime
from service.sessions.new_device import is_new_device, tell_of_new_device
from service.sessions.sessions import NewSession, create_session
from service.sessions.throttle import AttemptsRefused, SignInThrottle, Subjects
from service.totp import factor
from service.vault.labels import IndexPurpose
from verification.contacts import (
    email_key,
    looks_like_email,
    looks_like_phone,
    normalize_email,
    normalize_mobile,
)
from verification.errors import InvalidValue
from verification.passwords import normalize_password
from verification.usernames import username_key


@dataclass(frozen=True)
class SignInAttempt:
    identifier: str
    password: str
    totp_code: str | None
    recovery_code: str | None
    client_address: str
    user_agent: str | None


def invalid_credentials() -> Unauthenticated:
    return Unauthenticated("invalid_credentials", "The identifier or password is wrong")


def identifier_lookup(identifier: str, region: str) -> tuple[str, str] | None:
    """(kind, normalized key) for the identifier, or None if it cannot name any account."""
    try:
        if looks_like_email(identifier):
            return "email", email_key(normalize_email(identifier))
        if looks_like_phone(identifier):
            return "phone", normalize_mobile(identifier, region)
        return "username", username_key(identifier.strip())
    except InvalidValue:
        return None


async def find_account(runtime: Runtime, lookup: tuple[str, str] | None) -> contacts.SignInAccount | None:
    if lookup is None:
        return None
    kind, key = lookup
    index = runtime.vault.blind_index
    async with runtime.database.connection() as conn:
        if kind == "username":
            return await contacts.find_account_by_username(conn, index.digests(IndexPurpose.USERNAME, key))
        return await contacts.find_account(conn, kind, index.digests(IndexPurpose.contact(kind), key))


async def _audit_failure(runtime: Runtime, attempt: SignInAttempt, account_id: UUID | None, reason: str) -> None:
    # Whoever tried is anonymous until they succeed; the account they named is the target.
    actor = Actor.anonymous(attempt.client_address, attempt.user_agent)
    target = str(account_id) if account_id else ""
    await runtime.audit.append_alone(AuditEntry(actor, "session.sign_in_failed", "account", target, {"reason": reason}))


async def _tell_owner_if_locked(
    runtime: Runtime, throttle: SignInThrottle, subjects: Subjects, account_id: UUID
) -> None:
    async with runtime.database.transaction() as conn:
        if await throttle.person_just_locked(conn, subjects):
            await notify(runtime, conn, account_id, ("sign_in_locked", "sign_in_locked_sms"), {})


@dataclass(frozen=True)
class SignedIn:
    session: NewSession
    account_id: UUID
    state: AccountState


async def sign_in(runtime: Runtime, attempt: SignInAttempt) -> SignedIn:
    lookup = identifier_lookup(attempt.identifier, runtime.settings.default_phone_region)
    account = await find_account(runtime, lookup)
    throttle = SignInThrottle(runtime.vault.blind_index)
    person = (
        f"account:{account.id}"
        if account is not None
        else f"identifier:{lookup[1] if lookup else attempt.identifier.casefold()}"
    )
    subjects = throttle.subjects(person, attempt.client_address)
    password = normalize_password(attempt.password)
    try:
        async with runtime.database.transaction() as conn:
            await throttle.reserve(conn, subjects)
    except AttemptsRefused as refused:
        if refused.by_address:
            raise
        await runtime.passwords.verify_unknown(password)
        await _audit_failure(runtime, attempt, account.id if account else None, "locked")
        raise invalid_credentials() from None

    if account is None:
        await runtime.passwords.verify_unknown(password)
        await _audit_failure(runtime, attempt, None, "invalid_credentials")
        raise invalid_credentials()
    checked = await runtime.passwords.verify(account.password_hash, password)
    if not checked.matches or account.state not in CAN_SIGN_IN:
        await _audit_failure(runtime, attempt, account.id, "invalid_credentials")
        await _tell_owner_if_locked(runtime, throttle, subjects, account.id)
        raise invalid_credentials()

    cipher = runtime.vault.open_wrapped(account.id, account.master_key_id, account.wrapped_key)
    if account.totp_enabled and not (attempt.totp_code or attempt.recovery_code):
        raise Unauthenticated("second_factor_required", "Enter the code from your authenticator app")
    async with runtime.database.transaction() as conn:
        assurance = 1
        passed = True
        if account.totp_enabled:
            if attempt.totp_code:
                passed = await factor.check_code(conn, cipher, attempt.totp_code)
            elif attempt.recovery_code:
                passed = await factor.use_recovery_code(
                    conn, runtime.vault.blind_index, account.id, attempt.recovery_code
                )
            assurance = 2
        if passed:
            await throttle.succeeded(conn, subjects)
            new_device = await is_new_device(runtime, conn, cipher, attempt.client_address, attempt.user_agent)
            session = await create_session(
                conn,
                cipher,
                assurance=assurance,
                lifetime=runtime.settings.session_absolute_timeout,
                client_address=attempt.client_address,
                user_agent=attempt.user_agent,
            )
            actor = Actor.user(account.id, attempt.client_address, attempt.user_agent)
            details: dict[str, DetailValue] = {"assurance": assurance, "session_id": str(session.session_id)}
            await runtime.audit.append(
                conn, AuditEntry(actor, "session.signed_in", "account", str(account.id), details)
            )
            if new_device:
                await tell_of_new_device(runtime, conn, account.id, attempt.client_address, attempt.user_agent)
    if not passed:
        await _audit_failure(runtime, attempt, account.id, "invalid_second_factor")
        raise Unauthenticated("invalid_second_factor", "The second-factor code is wrong or was already used")
    if checked.needs_rehash:
        # Cost parameters live in the PHC string; an account hashed under older ones is
        # upgraded now, while we hold the plaintext.
        upgraded = await runtime.passwords.hash(password)
        async with runtime.database.transaction() as conn:
            await accounts.replace_password_hash(conn, account.id, account.password_hash, upgraded)
    return SignedIn(session, account.id, account.state)
