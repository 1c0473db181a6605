"""SQL for the consent ledger (append-only: the service's role may only read and insert)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec


class ConsentAction(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class LatestConsent(msgspec.Struct, frozen=True):
    """A purpose's latest ledger entry: its state."""

    purpose: str
    policy_version: str
    action: ConsentAction
    at: datetime


class ConsentRecord(msgspec.Struct, frozen=True):
    """One ledger entry."""

    purpose: str
    policy_version: str
    policy_sha256: str
    action: ConsentAction
    channel: str
    actor_account_id: UUID
    at: datetime
    # The language of the text the person was given (None: recorded before languages were).
    policy_language: str | None = None


async def insert(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    purpose: str,
    version: str,
    sha256: str,
    action: ConsentAction,
    channel: str,
    actor_account_id: UUID,
    language: str | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO consent_events (account_id, purpose, policy_version, policy_sha256, action, channel,
                                       actor_account_id, policy_language)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        account_id,
        purpose,
        version,
        sha256,
        action,
        channel,
        actor_account_id,
        language,
    )


async def insert_grants(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    purposes: list[str],
    versions: list[str],
    sha256s: list[str],
    channel: str,
    actor_account_id: UUID,
    languages: list[str],
) -> None:
    """One grant per (purpose, version, sha256 and language of the text shown), in one statement."""
    await conn.execute(
        """INSERT INTO consent_events (account_id, purpose, policy_version, policy_sha256, action,
                                       channel, actor_account_id, policy_language)
           SELECT $1, purpose, version, sha256, 'granted', $5, $6, language
           FROM unnest($2::text[], $3::text[], $4::text[], $7::text[]) AS d(purpose, version, sha256, language)""",
        account_id,
        purposes,
        versions,
        sha256s,
        channel,
        actor_account_id,
        languages,
    )


async def lock_account(conn: asyncpg.Connection, account_id: UUID) -> None:
    """Grants and withdrawals of one account take turns, so the latest entry is the state."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))", str(account_id))


async def latest(conn: asyncpg.Connection, account_id: UUID) -> dict[str, LatestConsent]:
    """Each purpose's latest entry, by purpose."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (purpose) purpose, policy_version, action, at
           FROM consent_events WHERE account_id = $1 ORDER BY purpose, id DESC""",
        account_id,
    )
    return {
        row["purpose"]: LatestConsent(row["purpose"], row["policy_version"], ConsentAction(row["action"]), row["at"])
        for row in rows
    }


async def history(conn: asyncpg.Connection, account_id: UUID) -> list[ConsentRecord]:
    rows = await conn.fetch(
        """SELECT purpose, policy_version, policy_sha256, action, channel, actor_account_id, at, policy_language
           FROM consent_events WHERE account_id = $1 ORDER BY id""",
        account_id,
    )
    return [
        ConsentRecord(
            row["purpose"],
            row["policy_version"],
            row["policy_sha256"],
            ConsentAction(row["action"]),
            row["channel"],
            row["actor_account_id"],
            row["at"],
            row["policy_language"],
        )
        for row in rows
    ]


async def withdraw_granted(
    conn: asyncpg.Connection, account_id: UUID, purposes: list[str], actor_account_id: UUID, channel: str
) -> list[str]:
    """Withdraw, against the same notice, each of these purposes whose latest event is a grant;
    the purposes withdrawn."""
    rows = await conn.fetch(
        """INSERT INTO consent_events (account_id, purpose, policy_version, policy_sha256, action, channel,
                                       actor_account_id)
           SELECT account_id, purpose, policy_version, policy_sha256, 'withdrawn', $3, $4
           FROM (SELECT DISTINCT ON (purpose) account_id, purpose, policy_version, policy_sha256, action
                 FROM consent_events WHERE account_id = $1 AND purpose = ANY($2::text[])
                 ORDER BY purpose, id DESC) latest
           WHERE action = 'granted'
           RETURNING purpose""",
        account_id,
        purposes,
        channel,
        actor_account_id,
    )
    return [row["purpose"] for row in rows]
