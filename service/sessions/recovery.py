"""Recovering an account whose password is forgotten: a one-time code to every verified contact,
then a new password (and the second factor, when enrolled) for a session.

Asking answers 202 with one body whether or not the identifier names an account, and no sooner
than ANSWER_FLOOR after the request arrived, so neither the answer nor its time tells which
(the work for a known account takes a few milliseconds more than for an unknown one). Asking is
throttled per identifier and per client address on sign-in's atomic counters (their own subjects):
an unknown identifier is throttled exactly like a known one.

Completing spends one of the code's attempts before anything else is looked at (atomically, so
parallel guesses never exceed MAX_ATTEMPTS), and answers every wrong code, unknown identifier,
spent or replaced code, and account whose state forbids sign-in alike. Only with the right code
does it say more: that a second factor is needed, or what is wrong with the new password (judged
against the account's own identifiers, which a guesser must not be able to probe).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg

from service.accounts.states import CAN_SIGN_IN, AccountState
from service.audit import Actor, AuditEntry
from service.contacts import store as contacts
from service.contacts.codes import CODE_TTL, MAX_ATTEMPTS, MAX_CODES_PER_HOUR, RESEND_INTERVAL_SECONDS, new_code
from service.courier.outbox import Message, queue_messages
from service.errors import DomainError, Unauthenticated
from service.runtime import Runtime
from service.sessions.passwords import hash_new_password, set_password
from service.sessions.sessions import NewSession, create_session
from service.sessions.sign_in import find_account, identifier_lookup
from service.sessions.throttle import SignInThrottle, Subjects
from service.totp import factor
from service.vault import BlindIndex, DataKeyDestroyed, OwnerCipher
from service.vault.labels import IndexPurpose, VaultField

PURPOSE = "recovery"
# Every answer to a recovery request takes at least this long (see the module's docstring).
ANSWER_FLOOR = timedelta(milliseconds=200)


def recovery_failed() -> Unauthenticated:
    return Unauthenticated("invalid_recovery_code", "The identifier or code is wrong, or the code has expired")


def person_of(runtime: Runtime, identifier: str) -> str:
    """Who a recovery names, for throttling: the identifier's normalized key, known or not."""
    lookup = identifier_lookup(identifier, runtime.settings.default_phone_region)
    return f"{lookup[0]}:{lookup[1]}" if lookup else f"raw:{identifier.strip().casefold()}"


def _subjects(index: BlindIndex, person: str, address: str) -> Subjects:
    # Recovery's own counters: asking for codes is not a failed sign-in, and must not lock one out.
    return Subjects(
        pair=index.digest(IndexPurpose.THROTTLE, f"recovery:{person}|{address}"),
        person=index.digest(IndexPurpose.THROTTLE, f"recovery:{person}"),
        address=index.digest(IndexPurpose.THROTTLE, f"recovery-address:{address}"),
    )


async def _send_codes(runtime: Runtime, conn: asyncpg.Connection, cipher: OwnerCipher) -> int:
    """One code for the account, to each verified contact; nothing when asked too often (silently:
    a 429 here would tell that the identifier is an account's). How many messages were queued."""
    account_id = cipher.owner_id
    recent = await contacts.recent_codes(conn, account_id, PURPOSE, timedelta(hours=1))
    since_last = recent.seconds_since_last
    if (since_last is not None and since_last < RESEND_INTERVAL_SECONDS) or recent.issued >= MAX_CODES_PER_HOUR:
        return 0
    addresses = []
    for kind in ("email", "phone"):
        contact = await contacts.fetch(conn, account_id, kind)
        if contact is not None and contact.verified_at is not None:
            addresses.append((kind, cipher.open_text(VaultField.contact(kind), contact.address)))
    if not addresses:
        return 0
    code_id, code = uuid.uuid4(), new_code()
    digest = runtime.vault.blind_index.digest(IndexPurpose.ONE_TIME_CODE, f"{code_id}:{code}")
    await contacts.insert_code(conn, code_id, account_id, PURPOSE, digest, CODE_TTL)
    variables = {"code": code, "minutes": str(int(CODE_TTL.total_seconds() // 60))}
    templates = {"email": "recovery_code", "phone": "recovery_code_sms"}
    await queue_messages(conn, cipher, [Message(templates[kind], to, variables) for kind, to in addresses])
    return len(addresses)


async def request_recovery(runtime: Runtime, identifier: str, *, client_address: str, user_agent: str | None) -> None:
    """Send a recovery code to the verified contacts of the account the identifier names, if any."""
    started = time.monotonic()
    try:
        account = await find_account(runtime, identifier_lookup(identifier, runtime.settings.default_phone_region))
        throttle = SignInThrottle(runtime.vault.blind_index)
        subjects = _subjects(runtime.vault.blind_index, person_of(runtime, identifier), client_address)
        async with runtime.database.transaction() as conn:
            await throttle.reserve(conn, subjects)  # 429 alike for known and unknown identifiers
            sent = 0
            if account is not None and account.state in CAN_SIGN_IN:
                cipher = runtime.vault.open_wrapped(account.id, account.master_key_id, account.wrapped_key)
                sent = await _send_codes(runtime, conn, cipher)
            if sent and account is not None:
                actor = Actor.anonymous(client_address, user_agent)
                await runtime.audit.append(
                    conn, AuditEntry(actor, "account.recovery_requested", "account", str(account.id), {})
                )
    except DataKeyDestroyed:
        pass  # an erased account: nothing to send, and nothing to say
    finally:
        await asyncio.sleep(max(0.0, ANSWER_FLOOR.total_seconds() - (time.monotonic() - started)))


@dataclass(frozen=True)
class RecoveryAttempt:
    identifier: str
    code: str
    new_password: str
    totp_code: str | None
    recovery_code: str | None
    client_address: str
    user_agent: str | None


@dataclass(frozen=True)
class Recovered:
    session: NewSession
    account_id: UUID
    state: AccountState


async def _spend_attempt(runtime: Runtime, account_id: UUID, code: str) -> UUID | None:
    """Count one guess on the account's live recovery code, committed before answering; the
    code's id when the guess is right (it is used up only when the recovery succeeds)."""
    async with runtime.database.transaction() as conn:
        live = await contacts.spend_attempt(conn, account_id, PURPOSE, MAX_ATTEMPTS)
    if live is None:
        return None
    if not runtime.vault.blind_index.matches(IndexPurpose.ONE_TIME_CODE, f"{live.id}:{code}", live.code_digest):
        return None
    code_id: UUID = live.id
    return code_id


async def complete_recovery(runtime: Runtime, attempt: RecoveryAttempt) -> Recovered:
    """Every answer that says only "wrong" comes after ANSWER_FLOOR too: a wrong code for a known
    account costs a committed write that an unknown identifier does not."""
    started = time.monotonic()
    try:
        return await _complete(runtime, attempt)
    except DomainError as problem:
        if problem.code == "invalid_recovery_code":
            await asyncio.sleep(max(0.0, ANSWER_FLOOR.total_seconds() - (time.monotonic() - started)))
        raise


async def _complete(runtime: Runtime, attempt: RecoveryAttempt) -> Recovered:
    account = await find_account(runtime, identifier_lookup(attempt.identifier, runtime.settings.default_phone_region))
    if account is None or account.state not in CAN_SIGN_IN:
        raise recovery_failed()
    account_id: UUID = account.id
    code_id = await _spend_attempt(runtime, account_id, attempt.code)
    if code_id is None:
        raise recovery_failed()
    if account.totp_enabled and not (attempt.totp_code or attempt.recovery_code):
        raise Unauthenticated("second_factor_required", "Enter the code from your authenticator app")
    phc = await hash_new_password(runtime, account_id, attempt.new_password, "new_password")
    cipher = runtime.vault.open_wrapped(account_id, account.master_key_id, account.wrapped_key)
    async with runtime.database.transaction() as conn:
        passed = True
        if account.totp_enabled:
            if attempt.totp_code:
                passed = await factor.check_code(conn, cipher, attempt.totp_code)
            else:
                passed = await factor.use_recovery_code(
                    conn, runtime.vault.blind_index, account_id, attempt.recovery_code or ""
                )
        # Used up here, in the transaction that sets the password: of parallel right answers, one wins.
        if passed and await contacts.consume_live(conn, code_id):
            actor = Actor.user(account_id, attempt.client_address, attempt.user_agent)
            await set_password(
                runtime,
                conn,
                account_id,
                phc,
                keep_session=None,
                actor=actor,
                action="account.recovered",
                notice=("account_recovered", "account_recovered_sms"),
            )
            # The owner proved themselves: a sign-in lock a guesser caused ends with it.
            throttle = SignInThrottle(runtime.vault.blind_index)
            await throttle.succeeded(conn, throttle.subjects(f"account:{account_id}", attempt.client_address))
            assurance = 2 if account.totp_enabled else 1
            session = await create_session(
                conn,
                cipher,
                assurance=assurance,
                lifetime=runtime.settings.session_absolute_timeout,
                client_address=attempt.client_address,
                user_agent=attempt.user_agent,
            )
            await runtime.audit.append(
                conn,
                AuditEntry(
                    actor,
                    "session.signed_in",
                    "account",
                    str(account_id),
                    {"assurance": assurance, "session_id": str(session.session_id)},
                ),
            )
            return Recovered(session, account_id, account.state)
    if not passed:
        raise Unauthenticated("invalid_second_factor", "The second-factor code is wrong or was already used")
    raise recovery_failed()
