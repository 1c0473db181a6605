"""SQL for guardian invitations and guardianships."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec

from service.accounts.reasons import WITHOUT_GUARDIAN_REASONS
from service.guardians.schemas import Relationship, Scope


class GuardianshipState(StrEnum):
    # A child's guardian: an operator confirms the relationship first.
    PENDING_REVIEW = "pending_review"
    ACTIVE = "active"
    REFUSED = "refused"
    REVOKED = "revoked"
    ENDED = "ended"


LIVE = (GuardianshipState.PENDING_REVIEW, GuardianshipState.ACTIVE)


class Guardianship(msgspec.Struct, frozen=True):
    id: UUID
    minor_account_id: UUID
    guardian_account_id: UUID
    relationship: Relationship
    scopes: tuple[Scope, ...]
    state: GuardianshipState
    case_id: UUID | None
    created_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class ActiveGuardianship(msgspec.Struct, frozen=True):
    id: UUID
    minor_account_id: UUID
    guardian_account_id: UUID


class AcceptedInvitation(msgspec.Struct, frozen=True):
    id: UUID
    minor_account_id: UUID


def _guardianship(row: asyncpg.Record) -> Guardianship:
    return Guardianship(
        id=row["id"],
        minor_account_id=row["minor_account_id"],
        guardian_account_id=row["guardian_account_id"],
        relationship=Relationship(row["relationship"]),
        scopes=tuple(Scope(scope) for scope in row["scopes"]),
        state=GuardianshipState(row["state"]),
        case_id=row["case_id"],
        created_at=row["created_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
    )


async def insert_invitation(
    conn: asyncpg.Connection,
    *,
    invitation_id: UUID,
    minor_account_id: UUID,
    contact_kind: str,
    contact: bytes,
    code_digest: bytes,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO guardian_invitations (id, minor_account_id, contact_kind, contact, code_digest, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        invitation_id,
        minor_account_id,
        contact_kind,
        contact,
        code_digest,
        expires_at,
    )


async def invitations_since(conn: asyncpg.Connection, minor_account_id: UUID, window: timedelta) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM guardian_invitations WHERE minor_account_id = $1 AND created_at > now() - $2::interval",
        minor_account_id,
        window,
    )
    return count


async def take_invitation(conn: asyncpg.Connection, code_digest: bytes) -> AcceptedInvitation | None:
    """The live invitation with this code, marked accepted; None when unknown, used or expired."""
    row = await conn.fetchrow(
        """UPDATE guardian_invitations SET accepted_at = now()
           WHERE code_digest = $1 AND accepted_at IS NULL AND expires_at > now()
           RETURNING id, minor_account_id""",
        code_digest,
    )
    return None if row is None else AcceptedInvitation(row["id"], row["minor_account_id"])


async def insert_guardianship(
    conn: asyncpg.Connection,
    *,
    guardianship_id: UUID,
    minor_account_id: UUID,
    guardian_account_id: UUID,
    relationship: Relationship,
    scopes: list[Scope],
    state: GuardianshipState,
    case_id: UUID | None,
) -> bool:
    result = await conn.fetchval(
        """INSERT INTO guardianships (id, minor_account_id, guardian_account_id, relationship, scopes, state, case_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (minor_account_id, guardian_account_id) WHERE state IN ('pending_review', 'active')
           DO NOTHING RETURNING 1""",
        guardianship_id,
        minor_account_id,
        guardian_account_id,
        relationship,
        scopes,
        state,
        case_id,
    )
    return result is not None


async def lock_for_case(conn: asyncpg.Connection, case_id: UUID) -> Guardianship | None:
    row = await conn.fetchrow("SELECT * FROM guardianships WHERE case_id = $1 FOR UPDATE", case_id)
    return None if row is None else _guardianship(row)


async def set_state(
    conn: asyncpg.Connection, guardianship_id: UUID, state: GuardianshipState, end_reason: str | None = None
) -> None:
    await conn.execute(
        """UPDATE guardianships SET state = $2, end_reason = $3,
               ended_at = CASE WHEN $2 IN ('refused', 'revoked', 'ended') THEN now() END
           WHERE id = $1""",
        guardianship_id,
        state,
        end_reason,
    )


async def involving(conn: asyncpg.Connection, account_id: UUID) -> list[Guardianship]:
    rows = await conn.fetch(
        """SELECT * FROM guardianships WHERE minor_account_id = $1 OR guardian_account_id = $1
           ORDER BY created_at DESC""",
        account_id,
    )
    return [_guardianship(row) for row in rows]


async def verified_birth_date(conn: asyncpg.Connection, account_id: UUID) -> bytes | None:
    sealed: bytes | None = await conn.fetchval(
        "SELECT birth_date FROM real_name_verifications WHERE account_id = $1 AND status = 'verified'", account_id
    )
    return sealed


async def lock_own_as_guardian(
    conn: asyncpg.Connection, guardianship_id: UUID, guardian_account_id: UUID
) -> Guardianship | None:
    row = await conn.fetchrow(
        "SELECT * FROM guardianships WHERE id = $1 AND guardian_account_id = $2 FOR UPDATE",
        guardianship_id,
        guardian_account_id,
    )
    return None if row is None else _guardianship(row)


async def guardian_in_force(conn: asyncpg.Connection, minor_account_id: UUID, guardian_account_id: UUID) -> bool:
    """Whether the guardian's consent for the minor is in force now (the row is locked against a
    revocation racing the caller's transaction)."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM guardianships
                              WHERE minor_account_id = $1 AND guardian_account_id = $2 AND state = 'active'
                              FOR SHARE)""",
            minor_account_id,
            guardian_account_id,
        )
    )


async def live_guardians(conn: asyncpg.Connection, minor_account_id: UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM guardianships WHERE minor_account_id = $1 AND state IN ('active', 'pending_review')",
        minor_account_id,
    )
    return count


# The first condition lets the partial index on waiting accounts (migration 0030) find the few candidates;
# the last state change's reason is then looked up only for suspended accounts past the window (cheap
# conditions go first), never once per account of the table (tests/lifecycle/test_plans.py).
MINORS_PAST_WINDOW = """SELECT a.id FROM accounts a
    WHERE a.state IN ('awaiting_guardian', 'suspended')
      AND ((a.state = 'awaiting_guardian' AND a.created_at < now() - $1::interval
            AND NOT EXISTS (SELECT 1 FROM guardianships g
                            WHERE g.minor_account_id = a.id AND g.state = 'pending_review'))
           OR (a.state = 'suspended' AND a.updated_at < now() - $1::interval
               AND (SELECT c.reason_code FROM account_state_changes c
                    WHERE c.account_id = a.id ORDER BY c.id DESC LIMIT 1) = ANY($2::text[])))
    FOR UPDATE OF a SKIP LOCKED"""


async def minors_past_window(conn: asyncpg.Connection, window: timedelta) -> list[UUID]:
    """Accounts still waiting for a guardian since before the window (and none under review), and
    accounts suspended because their guardian revoked or left, longer ago than the window."""
    rows = await conn.fetch(MINORS_PAST_WINDOW, window, list(WITHOUT_GUARDIAN_REASONS))
    return [row["id"] for row in rows]


async def active_guardianships(conn: asyncpg.Connection) -> list[ActiveGuardianship]:
    rows = await conn.fetch(
        """SELECT id, minor_account_id, guardian_account_id FROM guardianships
           WHERE state = 'active' FOR UPDATE SKIP LOCKED"""
    )
    return [ActiveGuardianship(row["id"], row["minor_account_id"], row["guardian_account_id"]) for row in rows]


async def end_live_involving(conn: asyncpg.Connection, account_id: UUID, end_reason: str) -> list[UUID]:
    """End every live guardianship the account is in, as guardian or as minor; returns their minors."""
    rows = await conn.fetch(
        """UPDATE guardianships SET state = 'ended', end_reason = $2, ended_at = now()
           WHERE (guardian_account_id = $1 OR minor_account_id = $1) AND state IN ('active', 'pending_review')
           RETURNING minor_account_id""",
        account_id,
        end_reason,
    )
    return [row["minor_account_id"] for row in rows]


async def delete_invitations_of_minor(conn: asyncpg.Connection, minor_account_id: UUID) -> None:
    await conn.execute("DELETE FROM guardian_invitations WHERE minor_account_id = $1", minor_account_id)
