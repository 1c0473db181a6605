"""Enrolling, confirming, checking and removing the TOTP second factor."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import pyotp

from service.totp import store
from service.vault import BlindIndex, OwnerCipher
from service.vault.labels import IndexPurpose, VaultField

STEP_SECONDS = 30
# Accept the previous and next step too: phones' clocks drift.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Enrollment:
    secret: str
    otpauth_uri: str


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code equals ``code`` (compared in constant time), or None."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def recovery_digest(index: BlindIndex, account_id: UUID, code: str) -> bytes:
    normalized = code.strip().lower().replace(" ", "")
    return index.digest(IndexPurpose.RECOVERY_CODE, f"{account_id}:{normalized}")


async def enroll(conn: asyncpg.Connection, cipher: OwnerCipher, label: str, issuer: str) -> Enrollment | None:
    secret = pyotp.random_base32(length=32)
    if not await store.put_pending(conn, cipher.owner_id, cipher.seal_text(VaultField.TOTP_SECRET, secret)):
        return None
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=label, issuer_name=issuer)
    return Enrollment(secret, uri)


async def check_code(conn: asyncpg.Connection, cipher: OwnerCipher, code: str, *, confirming: bool = False) -> bool:
    """True once per time step for the right code; a replay within the step is refused."""
    row = await store.fetch(conn, cipher.owner_id)
    if row is None or (row.confirmed_at is None) != confirming:
        return False
    step = matching_step(cipher.open_text(VaultField.TOTP_SECRET, row.secret), code)
    if step is None:
        return False
    # Claimed against the very secret checked: a re-enrolment in between makes the claim miss.
    return await store.claim_step(conn, cipher.owner_id, row.secret, step, confirming=confirming)


async def issue_recovery_codes(conn: asyncpg.Connection, index: BlindIndex, account_id: UUID) -> list[str]:
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    await store.replace_recovery_codes(conn, account_id, [recovery_digest(index, account_id, c) for c in codes])
    return codes


async def use_recovery_code(conn: asyncpg.Connection, index: BlindIndex, account_id: UUID, code: str) -> bool:
    # Codes issued before a blind-index rotation were digested under the previous key.
    normalized = code.strip().lower().replace(" ", "")
    for digest in index.digests(IndexPurpose.RECOVERY_CODE, f"{account_id}:{normalized}"):
        if await store.use_recovery_code(conn, account_id, digest):
            return True
    return False


async def remove_factor(conn: asyncpg.Connection, account_id: UUID) -> bool:
    """Remove the account's TOTP and recovery codes without a code (an approved assisted recovery:
    two operators decided); whether a confirmed factor was there."""
    existing = await store.fetch(conn, account_id)
    await store.remove(conn, account_id)
    return existing is not None and existing.confirmed_at is not None
