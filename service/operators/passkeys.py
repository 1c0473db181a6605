"""Operators' passkeys: enrolling, listing and removing them, and signing in with one.

The ceremonies are people's (service.passkeys.ceremony); the credentials and challenges are the
operators' own tables, so an operator's passkey never signs a person in, nor a person's an operator.
Every challenge is consumed (deleted) before the answer is checked: single use even in parallel. An
enrolment's is bound to the operator session that asked, a sign-in's to its flow id. Operators sign
in with discoverable passkeys only (no e-mail is asked, so none can be probed), and their passkeys
are created as resident keys.

With ``IDV_OPERATOR_REQUIRE_PASSKEY=true`` a session signed in with password and TOTP is restricted
(service.operators.auth): it may enrol the operator's first passkey and nothing that acts; an
operator who has one must sign in with it. Adding or removing a passkey, a counter going backwards
and every sign-in are in the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from service.audit import Actor, AuditEntry
from service.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from service.operators import store
from service.operators.auth import OperatorPrincipal
from service.operators.sign_in import NewOperatorSession
from service.passkeys import ceremony
from service.runtime import Runtime
from service.sessions.throttle import AttemptsRefused, SignInThrottle
from service.sessions.tokens import new_token, token_digest
from service.vault.labels import VaultField

# An operator has a few devices; more would only fill the table.
MOST_PASSKEYS = 10


@dataclass(frozen=True)
class OperatorPasskeyView:
    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backup_eligible: bool
    backed_up: bool


@dataclass(frozen=True)
class SignInFlow:
    flow_id: UUID
    options: dict[str, Any]


def passkey_required() -> Forbidden:
    return Forbidden("passkey_required", "Operators must sign in with a passkey; enrol one first if you have none")


def passkey_refused() -> Unauthenticated:
    return Unauthenticated("passkey_refused", "The passkey was not accepted")


def _only_first_while_restricted(principal: OperatorPrincipal, existing: list[store.OperatorPasskey]) -> None:
    """A restricted session (password and TOTP while passkeys are required) may enrol the first
    passkey only: otherwise a phished password and code would add the phisher's passkey."""
    if principal.restricted and existing:
        raise passkey_required()


async def enrolment_options(runtime: Runtime, principal: OperatorPrincipal) -> dict[str, Any]:
    """Creation options bound to this operator session; the caller has confirmed the password."""
    challenge = ceremony.new_challenge()
    async with runtime.database.transaction() as conn:
        operator = await store.by_id(conn, principal.operator_id)
        if operator is None:
            raise NotFound("operator_not_found", "No such operator")
        existing = await store.passkeys_of(conn, principal.operator_id)
        _only_first_while_restricted(principal, existing)
        if len(existing) >= MOST_PASSKEYS:
            raise Conflict("too_many_passkeys", f"At most {MOST_PASSKEYS} passkeys; remove one first")
        await store.put_passkey_challenge(
            conn,
            uuid.uuid4(),
            store.PasskeyPurpose.ENROLMENT,
            challenge,
            ceremony.CHALLENGE_LIFETIME,
            session_id=principal.session_id,
        )
    email = runtime.vault.open_wrapped(operator.id, operator.master_key_id, operator.wrapped_key).open_text(
        VaultField.OPERATOR_EMAIL, operator.email
    )
    return ceremony.creation_options(
        runtime.settings,
        challenge=challenge,
        # The operator id: what a discoverable passkey answers with at sign-in.
        user_id=principal.operator_id.bytes,
        user_name=email,
        display_name=f"{email} ({runtime.settings.public_name} operator)",
        exclude=[passkey.credential_id for passkey in existing],
        # Sign-in asks for no e-mail: the passkey must be discoverable.
        resident_key=ceremony.ResidentKeyRequirement.REQUIRED,
    )


async def enrol(
    runtime: Runtime, principal: OperatorPrincipal, name: str, credential: dict[str, Any]
) -> OperatorPasskeyView:
    challenge = ceremony.sent_challenge(credential)
    # Consumed on its own, before the answer is checked: a wrong answer uses it up too.
    async with runtime.database.transaction() as conn:
        taken = await store.take_passkey_enrolment_challenge(conn, principal.session_id, challenge)
    if not taken:
        raise Invalid("passkey_challenge_invalid", "Ask for new passkey options: these were used, expired or not yours")
    registered = ceremony.check_registration(runtime.settings, credential, challenge)
    async with runtime.database.transaction() as conn:
        # Locked, so two restricted sessions cannot each add a "first" passkey.
        operator = await store.lock(conn, principal.operator_id)
        if operator is None or operator.disabled_at is not None:
            raise NotFound("operator_not_found", "No such operator")
        _only_first_while_restricted(principal, await store.passkeys_of(conn, operator.id))
        cipher = runtime.vault.open_wrapped(operator.id, operator.master_key_id, operator.wrapped_key)
        passkey = store.OperatorPasskey(
            id=uuid.uuid4(),
            operator_id=operator.id,
            credential_id=registered.credential_id,
            public_key=registered.public_key,
            sign_count=registered.sign_count,
            name=cipher.seal_text(VaultField.OPERATOR_PASSKEY_NAME, name),
            aaguid=registered.aaguid,
            backup_eligible=registered.backup_eligible,
            backed_up=registered.backed_up,
            created_at=datetime.now(UTC),
            last_used_at=None,
        )
        if not await store.insert_passkey(conn, passkey):
            raise Conflict("passkey_already_enrolled", "This passkey is already enrolled")
        details = {"passkey_id": str(passkey.id), "session_id": str(principal.session_id)}
        await runtime.audit.append(
            conn, AuditEntry(principal.actor, "operator.passkey_added", "operator", str(operator.id), details)
        )
    return OperatorPasskeyView(passkey.id, name, passkey.created_at, None, passkey.backup_eligible, passkey.backed_up)


async def list_passkeys(runtime: Runtime, principal: OperatorPrincipal) -> list[OperatorPasskeyView]:
    async with runtime.database.connection() as conn:
        operator = await store.by_id(conn, principal.operator_id)
        passkeys = await store.passkeys_of(conn, principal.operator_id)
    if operator is None:
        return []
    cipher = runtime.vault.open_wrapped(operator.id, operator.master_key_id, operator.wrapped_key)
    return [
        OperatorPasskeyView(
            passkey.id,
            cipher.open_text(VaultField.OPERATOR_PASSKEY_NAME, passkey.name),
            passkey.created_at,
            passkey.last_used_at,
            passkey.backup_eligible,
            passkey.backed_up,
        )
        for passkey in passkeys
    ]


async def remove_passkey(runtime: Runtime, principal: OperatorPrincipal, passkey_id: UUID) -> None:
    """Remove one of the operator's own passkeys; the caller has confirmed the password. Another
    operator's is answered as one that does not exist. While passkeys are required the last one
    stays (enrol the replacement first), or the operator would be back to password and TOTP."""
    async with runtime.database.transaction() as conn:
        operator = await store.lock(conn, principal.operator_id)
        mine = {passkey.id: passkey for passkey in await store.passkeys_of(conn, principal.operator_id)}
        if operator is None or passkey_id not in mine:
            raise NotFound("passkey_not_found", "No such passkey")
        if runtime.settings.operator_require_passkey and len(mine) == 1:
            raise Conflict("last_passkey", "Passkeys are required: enrol another before removing your last")
        if not await store.remove_passkey(conn, principal.operator_id, passkey_id):
            raise NotFound("passkey_not_found", "No such passkey")
        details = {"passkey_id": str(passkey_id), "session_id": str(principal.session_id)}
        await runtime.audit.append(
            conn, AuditEntry(principal.actor, "operator.passkey_removed", "operator", str(operator.id), details)
        )


async def sign_in_options(runtime: Runtime, pre_session_digest: bytes | None = None) -> SignInFlow:
    """Request options and their flow; the console binds the flow to its sign-in page
    (``pre_session_digest``, the sha256 of that page's pre-session token), the API to nothing more."""
    challenge = ceremony.new_challenge()
    flow_id = uuid.uuid4()
    async with runtime.database.transaction() as conn:
        await store.put_passkey_challenge(
            conn,
            flow_id,
            store.PasskeyPurpose.SIGN_IN,
            challenge,
            ceremony.CHALLENGE_LIFETIME,
            pre_session_digest=pre_session_digest,
        )
    return SignInFlow(flow_id, ceremony.request_options(runtime.settings, challenge, allowed=()))


async def _failed(runtime: Runtime, actor: Actor, operator_id: UUID | None, reason: str) -> None:
    target = str(operator_id) if operator_id else ""
    details = {"kind": "passkey", "reason": reason}
    await runtime.audit.append_alone(AuditEntry(actor, "operator.sign_in_failed", "operator", target, details))


async def sign_in_with_passkey(
    runtime: Runtime,
    flow_id: UUID,
    credential: dict[str, Any],
    client_address: str,
    user_agent: str | None,
    *,
    pre_session_digest: bytes | None = None,
    channel: store.SessionChannel = store.SessionChannel.API,
) -> NewOperatorSession:
    """An operator session, as password and TOTP sign-in gives, signed in with a passkey, for the
    API or the console (``channel``); a console's flow answers only from the page that asked for it
    (``pre_session_digest``, as ``sign_in_options`` was given)."""
    anonymous = Actor.anonymous(client_address, user_agent)
    challenge = ceremony.sent_challenge(credential)
    raw_id = ceremony.credential_id(credential)
    throttle = SignInThrottle(runtime.vault.blind_index)
    async with runtime.database.transaction() as conn:
        issued = await store.take_passkey_sign_in_challenge(conn, flow_id, challenge, pre_session_digest)
        passkey = await store.passkey_by_credential_id(conn, raw_id)
    operator_id = passkey.operator_id if passkey else None
    subjects = throttle.subjects(
        f"operator:{operator_id}" if operator_id else f"operator-passkey:{raw_id.hex()}", client_address
    )
    try:
        async with runtime.database.transaction() as conn:
            await throttle.reserve(conn, subjects)
    except AttemptsRefused as refused:
        if refused.by_address:
            raise
        await _failed(runtime, anonymous, operator_id, "locked")
        raise passkey_refused() from None
    if not issued or passkey is None:
        await _failed(runtime, anonymous, operator_id, "passkey_challenge_invalid")
        raise passkey_refused()
    async with runtime.database.connection() as conn:
        operator = await store.by_id(conn, passkey.operator_id)
    if operator is None or operator.enrolled_at is None or operator.disabled_at is not None:
        await _failed(runtime, anonymous, passkey.operator_id, "operator_disabled")
        raise passkey_refused()
    try:
        assertion = ceremony.check_assertion(
            runtime.settings,
            credential,
            challenge=challenge,
            public_key=passkey.public_key,
            user_handle=passkey.operator_id.bytes,
            refused=passkey_refused,
        )
    except Unauthenticated:
        await _failed(runtime, anonymous, passkey.operator_id, "invalid_credentials")
        raise
    token = new_token()
    session_id = uuid.uuid4()
    expires_at = datetime.now(UTC) + runtime.settings.operator_session_absolute_timeout
    actor = Actor.operator(passkey.operator_id, client_address, user_agent)
    async with runtime.database.transaction() as conn:
        moved_on = await store.record_passkey_use(conn, passkey.id, assertion.sign_count, assertion.backed_up)
        if moved_on:
            await throttle.succeeded(conn, subjects)
            await store.insert_session(
                conn,
                session_id,
                passkey.operator_id,
                token_digest(token),
                expires_at,
                store.SignedInWith.PASSKEY,
                channel,
            )
            details = {
                "kind": "passkey",
                "passkey_id": str(passkey.id),
                "session_id": str(session_id),
                "channel": channel.value,
            }
            await runtime.audit.append(
                conn, AuditEntry(actor, "operator.signed_in", "operator", str(passkey.operator_id), details)
            )
        else:
            # A counter at or below the stored one: a cloned authenticator, or a replay.
            details = {"passkey_id": str(passkey.id), "sign_count": str(assertion.sign_count)}
            await runtime.audit.append(
                conn,
                AuditEntry(
                    anonymous, "operator.passkey_counter_regressed", "operator", str(passkey.operator_id), details
                ),
            )
    if not moved_on:
        await _failed(runtime, anonymous, passkey.operator_id, "counter_regressed")
        raise passkey_refused()
    return NewOperatorSession(session_id, token, expires_at)
