"""The erasure ledger: every erasure, whole-account or partial, by category, pseudonymous account
id, the items erased (ids) and time; never a personal value. Append-only.

What a restored backup must have re-applied (lifecycle.replay). Content erased in place (documents,
face images and templates, export archives) is recorded by database triggers (migration 0025),
whichever code path erased it; whole-account erasures and destroyed biometric keys are recorded
here by the code that does them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import asyncpg


class Category(StrEnum):
    ACCOUNT = "account"  # everything of the account (lifecycle.erasure)
    DOCUMENTS = "documents"  # items: document ids whose content went
    FACE_IMAGES = "face_images"  # items: face verification ids whose images went
    FACE_TEMPLATES = "face_templates"  # items: face verification ids whose template went
    EXPORTS = "exports"  # items: export ids whose archive went
    BIOMETRIC_KEYS = "biometric_keys"  # items: face verification ids whose biometric key was destroyed
    # A consent withdrawn (``reason``: the purpose; no items): a restored backup must not show the
    # consent granted again, or it would collect data on a consent the person took back.
    CONSENT = "consent"


ACCOUNT = Category.ACCOUNT


async def record(
    conn: asyncpg.Connection,
    account_id: UUID,
    category: Category,
    reason: str,
    items: Sequence[UUID] = (),
    erased_at: datetime | None = None,
) -> datetime:
    """Append an entry; its time (``erased_at`` for a replay, so the legal hold ends when it would have)."""
    at: datetime = await conn.fetchval(
        """INSERT INTO erasure_ledger (account_id, reason, category, items, erased_at)
           VALUES ($1, $2, $3, $4, coalesce($5, erasure_time())) RETURNING erased_at""",
        account_id,
        reason,
        category.value,
        list(items),
        erased_at,
    )
    return at
