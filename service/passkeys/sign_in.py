"""Signing in with a passkey: request options for a flow, then the assertion that answers them.

The options answer alike whoever the identifier names: a known account's passkeys, and for an
identifier that names nobody (or an account without passkeys) one decoy credential id derived
from the identifier by the blind index, the same on every ask, as a real account's would be. Without
an identifier the browser offers its discoverable passkeys.

The assertion's challenge is consumed before it is checked (one use, even by parallel requests),
and must be the one issued to the flow it names. A passkey with user verification is two factors
(something held, and a PIN or biometric that unlocks it): the session's assurance is 2, as with
TOTP, and TOTP is not asked for. Failures are throttled on sign-in's counters, per account and per
address, and answered as one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from service.accounts.states import CAN_SIGN_IN
from service.audit import Actor, AuditEntry
from service.audit.entries import DetailValue
from service.errors import Unauthenticated
from service.passkeys import ceremony, store
from service.passkeys.enrolment import tell
from service.runtime import Runtime
from service.sessions.new_device import is_new_device, tell_of_new_device
from service.sessions.sessions import create_session
from service.sessions.sign_in import SignedIn, find_account, identifier_lookup
from service.sessions.throttle import AttemptsRefused, SignInThrottle
from service.vault.labels import IndexPurpose, VaultField

# A passkey with user verification: possession and a local PIN or biometric (NIST SP 800-63B AAL2).
PASSKEY_ASSURANCE = 2
DECOY_LENGTH = 32


@dataclass(frozen=True)
class RequestOptions:
    flow_id: UUID
    options: dict[str, Any]


def passkey_refused() -> Unauthenticated:
    return Unauthenticated("passkey_refused", "The passkey was not accepted")


async def request_options(runtime: Runtime, identifier: str | None) -> RequestOptions:
    allowed: list[bytes] = []
    account_id: UUID | None = None
    if identifier is not None:
        lookup = identifier_lookup(identifier, runtime.settings.default_phone_region)
        account = await find_account(runtime, lookup)
        if account is not None:
            account_id = account.id
            async with runtime.database.connection() as conn:
                allowed = [passkey.credential_id for passkey in await store.for_account(conn, account.id)]
        if not allowed:
            key = lookup[1] if lookup else identifier.strip().casefold()
            allowed = [runtime.vault.blind_index.digest(IndexPurpose.PASSKEY_DECOY, key)[:DECOY_LENGTH]]
    challenge = ceremony.new_challenge()
    flow_id = uuid.uuid4()
    async with runtime.database.transaction() as conn:
        await store.put_challenge(
            conn, flow_id, store.Purpose.SIGN_IN, challenge, ceremony.CHALLENGE_LIFETIME, account_id=account_id
        )
    return RequestOptions(flow_id, ceremony.request_options(runtime.settings, challenge, allowed))


async def _failed(runtime: Runtime, actor: Actor, account_id: UUID | None, reason: str) -> None:
    target = str(account_id) if account_id else ""
    entry = AuditEntry(actor, "session.sign_in_failed", "account", target, {"reason": reason, "kind": "passkey"})
    await runtime.audit.append_alone(entry)


async def sign_in_with_passkey(
    runtime: Runtime, flow_id: UUID, credential: dict[str, Any], client_address: str, user_agent: str | None
) -> SignedIn:
    settings = runtime.settings
    anonymous = Actor.anonymous(client_address, user_agent)
    challenge = ceremony.sent_challenge(credential)
    raw_id = ceremony.credential_id(credential)
    throttle = SignInThrottle(runtime.vault.blind_index)
    async with runtime.database.transaction() as conn:
        issued = await store.take_sign_in_challenge(conn, flow_id, challenge)
        passkey = await store.by_credential_id(conn, raw_id)
    person = f"account:{passkey.account_id}" if passkey else f"passkey:{raw_id.hex()}"
    subjects = throttle.subjects(person, client_address)
    try:
        async with runtime.database.transaction() as conn:
            await throttle.reserve(conn, subjects)
    except AttemptsRefused as refused:
        if refused.by_address:
            raise
        await _failed(runtime, anonymous, passkey.account_id if passkey else None, "locked")
        raise passkey_refused() from None
    if issued is None or passkey is None or (issued.account_id is not None and issued.account_id != passkey.account_id):
        await _failed(runtime, anonymous, passkey.account_id if passkey else None, "passkey_challenge_invalid")
        raise passkey_refused()
    async with runtime.database.connection() as conn:
        owner = await store.owner(conn, passkey.account_id)
    if owner is None or owner.state not in CAN_SIGN_IN:
        await _failed(runtime, anonymous, passkey.account_id, "invalid_credentials")
        raise passkey_refused()
    try:
        verified = ceremony.check_assertion(
            settings,
            credential,
            challenge=issued.challenge,
            public_key=passkey.public_key,
            # A discoverable passkey names its account: it must be the credential's.
            user_handle=passkey.account_id.bytes,
            refused=passkey_refused,
        )
    except Unauthenticated:
        await _failed(runtime, anonymous, passkey.account_id, "invalid_credentials")
        raise
    cipher = runtime.vault.open_wrapped(passkey.account_id, owner.master_key_id, owner.wrapped_key)
    async with runtime.database.transaction() as conn:
        moved_on = await store.record_use(conn, passkey.id, verified.sign_count, verified.backed_up)
        if moved_on:
            await throttle.succeeded(conn, subjects)
            new_device = await is_new_device(runtime, conn, cipher, client_address, user_agent)
            session = await create_session(
                conn,
                cipher,
                assurance=PASSKEY_ASSURANCE,
                lifetime=settings.session_absolute_timeout,
                client_address=client_address,
                user_agent=user_agent,
            )
            actor = Actor.user(passkey.account_id, client_address, user_agent)
            details: dict[str, DetailValue] = {
                "assurance": PASSKEY_ASSURANCE,
                "session_id": str(session.session_id),
                "kind": "passkey",
                "passkey_id": str(passkey.id),
            }
            await runtime.audit.append(
                conn, AuditEntry(actor, "session.signed_in", "account", str(passkey.account_id), details)
            )
            if new_device:
                await tell_of_new_device(runtime, conn, passkey.account_id, client_address, user_agent)
        else:
            details = {"kind": "passkey", "passkey_id": str(passkey.id), "reason": "counter_regressed"}
            entry = AuditEntry(anonymous, "passkey.counter_regressed", "account", str(passkey.account_id), details)
            await runtime.audit.append(conn, entry)
            await tell(
                runtime,
                conn,
                passkey.account_id,
                "passkey_counter_regressed",
                cipher.open_text(VaultField.PASSKEY_NAME, passkey.name),
            )
    if not moved_on:
        await _failed(runtime, anonymous, passkey.account_id, "counter_regressed")
        raise passkey_refused()
    return SignedIn(session, passkey.account_id, owner.state)
