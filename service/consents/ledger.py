"""Writing to the consent ledger. The consent-ledger capability extends this with purposes,
withdrawal and history; registration records acceptance of the terms and privacy policy."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.policies.catalog import PolicyDocument


async def record_policy_acceptance(
    conn: asyncpg.Connection,
    account_id: UUID,
    document: PolicyDocument,
    *,
    channel: str,
    actor_account_id: UUID | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO consent_events (account_id, purpose, policy_version, policy_sha256, action,
                                       channel, actor_account_id)
           VALUES ($1, $2, $3, $4, 'granted', $5, $6)""",
        account_id,
        document.kind.value,
        document.version,
        document.sha256,
        channel,
        actor_account_id or account_id,
    )
