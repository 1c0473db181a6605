"""Writing to the consent ledger. The consent-ledger capability extends this with purposes,
withdrawal and history; registration records acceptance of the terms and privacy policy."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.policies.catalog import PolicyDocument


async def record_policy_acceptance(
    conn: asyncpg.Connection,
    account_id: UUID,
    documents: list[PolicyDocument],
    *,
    channel: str,
    actor_account_id: UUID | None = None,
) -> None:
    """Grant each document's purpose, one ledger entry per document, in one statement."""
    await conn.execute(
        """INSERT INTO consent_events (account_id, purpose, policy_version, policy_sha256, action,
                                       channel, actor_account_id)
           SELECT $1, purpose, version, sha256, 'granted', $5, $6
           FROM unnest($2::text[], $3::text[], $4::text[]) AS d(purpose, version, sha256)""",
        account_id,
        [d.kind.value for d in documents],
        [d.version for d in documents],
        [d.sha256 for d in documents],
        channel,
        actor_account_id or account_id,
    )
