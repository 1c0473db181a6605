"""Creating, resolving and ending sessions."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from service.accounts.states import AccountState
from service.database.pool import Database
from service.face.assurance import face_verified_by
from service.face.schemas import FaceVerifiedBy
from service.sessions import store
from service.sessions.cache import CachedSession, SessionCache
from service.sessions.tokens import looks_like_token, new_token, token_digest
from service.vault import OwnerCipher
from service.vault.labels import VaultField


@dataclass(frozen=True)
class NewSession:
    session_id: UUID
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account behind a live session, and how strongly it signed in."""

    session_id: UUID
    account_id: UUID
    state: AccountState
    assurance: int
    email_verified: bool
    phone_verified: bool
    totp_enabled: bool
    expires_at: datetime
    # A required policy changed in a major way and has not been accepted again.
    consent_required: bool = False
    real_name_verified: bool = False
    # Holds a qualification in force (see GET /v1/me/qualifications for which).
    qualified: bool = False
    face_verified: bool = False
    # How the face verification in force was decided (None when there is none).
    face_verified_by: FaceVerifiedBy | None = None
    # An operator checked the identity document by eye (the way without facial recognition).
    document_reviewed: bool = False
    # An operator doubts what the account proved (accounts.states.DOUBT), whatever its state now.
    in_doubt: bool = False


async def create_session(
    conn: asyncpg.Connection,
    cipher: OwnerCipher,
    *,
    assurance: int,
    lifetime: timedelta,
    client_address: str | None,
    user_agent: str | None,
) -> NewSession:
    token = new_token()
    session_id = uuid.uuid4()
    expires_at = datetime.now(UTC) + lifetime
    await store.insert(
        conn,
        session_id=session_id,
        account_id=cipher.owner_id,
        token_digest=token_digest(token),
        assurance=assurance,
        expires_at=expires_at,
        client_address=cipher.seal(VaultField.SESSION_CLIENT_ADDRESS, client_address) if client_address else None,
        user_agent=cipher.seal(VaultField.SESSION_USER_AGENT, user_agent[:512]) if user_agent else None,
    )
    return NewSession(session_id, token, expires_at)


# Activity is recorded at most this often per session: whoami stays a read, not a write.
TOUCH_EVERY = timedelta(seconds=60)


async def resolve_session(
    database: Database,
    token: str,
    idle: timedelta,
    required: tuple[list[str], list[str]],
    cache: SessionCache | None = None,
) -> Principal | None:
    """The principal behind a token, or None when it is unknown, ended, idle or expired.
    ``required`` is the (purpose, version) pairs that satisfy the required consents. With a
    ``cache``, a recent answer is reused while it is still within its expiry and idle timeout;
    at their edge the database decides (another replica may have seen the session since)."""
    if not looks_like_token(token):
        return None
    digest = token_digest(token)
    if cache is not None and cache.enabled:
        hit = cache.get(digest, required)
        if hit is not None:
            now = datetime.now(UTC)
            if hit.principal.expires_at > now and hit.last_seen_at > now - idle:
                if hit.last_seen_at < now - TOUCH_EVERY:
                    hit.last_seen_at = now  # before the write, so that parallel hits do not write too
                    await store.touch(database.pool, hit.principal.session_id)
                return hit.principal
            cache.drop_digest(digest)
    generation = cache.generation if cache is not None else 0
    row = await store.resolve(database.pool, digest, idle, *required)
    if row is None:
        return None
    last_seen_at: datetime = row["last_seen_at"]
    if row["stale"]:
        await store.touch(database.pool, row["id"])
        last_seen_at = datetime.now(UTC)
    principal = _principal(row)
    if cache is not None:
        cache.put(digest, CachedSession(principal, required, time.monotonic(), last_seen_at), generation)
    return principal


def _principal(row: asyncpg.Record) -> Principal:
    return Principal(
        session_id=row["id"],
        account_id=row["account_id"],
        state=AccountState(row["state"]),
        assurance=row["assurance"],
        email_verified=row["email_verified"],
        phone_verified=row["phone_verified"],
        totp_enabled=row["totp_enabled"],
        expires_at=row["expires_at"],
        consent_required=row["consent_required"],
        real_name_verified=row["real_name_verified"],
        qualified=row["qualified"],
        face_verified=row["face_verified"],
        face_verified_by=face_verified_by(
            row["face_decided_by"], row["face_pad"], row["face_pad_certified"], row["face_verified_at"]
        )
        if row["face_verified"]
        else None,
        document_reviewed=row["document_reviewed"],
        in_doubt=row["in_doubt"],
    )
