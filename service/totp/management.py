"""Enrolment, confirmation and removal of TOTP for the signed-in account."""

from __future__ import annotations

from service.accounts import store as accounts
from service.audit import Actor, AuditEntry
from service.contacts import store as contacts
from service.errors import Conflict, Invalid, NotFound
from service.runtime import Runtime
from service.sessions.reauthentication import reauthentication_failed
from service.sessions.sessions import Principal
from service.totp import factor, store
from service.totp.factor import Enrollment
from service.vault.labels import VaultField


async def _label(runtime: Runtime, principal: Principal) -> str:
    async with runtime.database.connection() as conn:
        cipher = await runtime.vault.open(conn, principal.account_id)
        profile = await accounts.fetch_profile(conn, principal.account_id)
        assert profile is not None
        for kind in ("email", "phone"):
            contact = await contacts.fetch(conn, principal.account_id, kind)
            if contact is not None:
                return cipher.open_text(VaultField.contact(kind), contact.address)
        return cipher.open_optional(VaultField.ACCOUNT_USERNAME, profile.username) or str(principal.account_id)


async def enroll_totp(runtime: Runtime, principal: Principal) -> Enrollment:
    label = await _label(runtime, principal)
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, principal.account_id)
        enrollment = await factor.enroll(conn, cipher, label, runtime.settings.public_name)
    if enrollment is None:
        raise Conflict("totp_already_enabled", "TOTP is already enabled; remove it first")
    return enrollment


async def confirm_totp(runtime: Runtime, principal: Principal, code: str, actor: Actor) -> list[str]:
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, principal.account_id)
        if not await factor.check_code(conn, cipher, code, confirming=True):
            raise Invalid("code_invalid", "The code is not right, or TOTP is not being enrolled")
        codes = await factor.issue_recovery_codes(conn, runtime.vault.blind_index, principal.account_id)
        # A factor change: the person's security log (audit.activity) shows it.
        entry = AuditEntry(actor, "totp.enabled", "account", str(principal.account_id), {"kind": "totp"})
        await runtime.audit.append(conn, entry)
        return codes


async def remove_totp(
    runtime: Runtime, principal: Principal, code: str | None, recovery_code: str | None, actor: Actor
) -> None:
    """Remove the second factor; the caller has already confirmed the password."""
    async with runtime.database.transaction() as conn:
        row = await store.fetch(conn, principal.account_id)
        if row is None or row.confirmed_at is None:
            raise NotFound("totp_not_enabled", "TOTP is not enabled")
        cipher = await runtime.vault.open(conn, principal.account_id)
        passed = (
            await factor.check_code(conn, cipher, code)
            if code
            else await factor.use_recovery_code(
                conn, runtime.vault.blind_index, principal.account_id, recovery_code or ""
            )
        )
        if not passed:
            raise reauthentication_failed()
        await store.remove(conn, principal.account_id)
        entry = AuditEntry(actor, "totp.removed", "account", str(principal.account_id), {"kind": "totp"})
        await runtime.audit.append(conn, entry)
