"""A minor inviting a guardian: a code sent to the guardian's e-mail or phone.

The code is long (it carries authority over a minor's account, so it is not a six-digit code
that a few guesses could find), stored as a keyed hash, and valid for the consent window.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from service.accounts.masking import mask_email, mask_phone
from service.accounts.states import AccountState
from service.audit import Actor, AuditEntry
from service.courier.outbox import Message, queue_messages
from service.errors import Conflict, RateLimited, checking, invalid_field
from service.guardians import store
from service.guardians.schemas import GuardianInvitationRequest, InvitationSent
from service.runtime import Runtime
from service.sessions.sessions import Principal
from service.vault import BlindIndex
from service.vault.labels import IndexPurpose, VaultField
from verification.contacts import normalize_email, normalize_mobile

INVITATIONS_PER_DAY = 5


def invitation_digest(index: BlindIndex, code: str) -> bytes:
    return index.digest(IndexPurpose.GUARDIAN_INVITATION, code)


def invitation_digests(index: BlindIndex, code: str) -> list[bytes]:
    return index.digests(IndexPurpose.GUARDIAN_INVITATION, code)


def _contact(body: GuardianInvitationRequest, region: str) -> tuple[str, str]:
    if (body.email is None) == (body.phone is None):
        raise invalid_field("email", "one_contact", "give the guardian's e-mail or mobile number, one of them")
    if body.email is not None:
        with checking("email"):
            return "email", normalize_email(body.email)
    assert body.phone is not None
    with checking("phone"):
        return "phone", normalize_mobile(body.phone, region)


async def invite(
    runtime: Runtime, principal: Principal, body: GuardianInvitationRequest, actor: Actor
) -> InvitationSent:
    if principal.state is not AccountState.AWAITING_GUARDIAN:
        raise Conflict("no_guardian_needed", "This account does not wait for a guardian")
    kind, address = _contact(body, runtime.settings.default_phone_region)
    code = secrets.token_urlsafe(12)
    expires_at = datetime.now(UTC) + runtime.settings.guardian_consent_window
    async with runtime.database.transaction() as conn:
        if await store.invitations_since(conn, principal.account_id, timedelta(days=1)) >= INVITATIONS_PER_DAY:
            raise RateLimited("too_many_invitations", "Too many invitations today; try again tomorrow")
        cipher = await runtime.vault.open(conn, principal.account_id)
        await store.insert_invitation(
            conn,
            invitation_id=uuid.uuid4(),
            minor_account_id=principal.account_id,
            contact_kind=kind,
            contact=cipher.seal(VaultField.guardian_contact(kind), address),
            code_digest=invitation_digest(runtime.vault.blind_index, code),
            expires_at=expires_at,
        )
        template = "guardian_invitation" if kind == "email" else "guardian_invitation_sms"
        days = str(max(1, runtime.settings.guardian_consent_window.days))
        await queue_messages(conn, cipher, [Message(template, address, {"code": code, "days": days})])
        await runtime.audit.append(
            conn, AuditEntry(actor, "guardian.invited", "account", str(principal.account_id), {"channel": kind})
        )
    return InvitationSent(mask_email(address) if kind == "email" else mask_phone(address), expires_at)
