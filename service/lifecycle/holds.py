"""The legal hold on an erased account's transaction records.

Erasure keeps the records that show what was done, not who it was done to: real-name checks
(status, provider, provider reference, times), face verifications (scores, thresholds, model
version), qualification decisions, corrections, uploads' sizes, exports, the cancellation, and
what was disclosed to recipients and when they were told: the ``Hold.LEGAL`` entries of the
personal-data registry (lifecycle.personal_data), whose ``erase`` statements blank every personal
value they still hold at erasure (sealed values were unreadable already, their key destroyed;
blanking also drops their lengths and the blind index). The ``legal_hold`` retention category deletes them
when the hold ends (default three years after the erasure; ``IDV_RETENTION=legal_hold=...``).

What stays for good holds no personal value: the tombstone, its state history, the consent
ledger, case events, the audit trail and the erasure ledger (needed to replay erasures onto a
restored backup).
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import TYPE_CHECKING

import asyncpg

from service.lifecycle import personal_data

if TYPE_CHECKING:
    from service.runtime import Runtime


# Read when first used: the registry is filled by the capabilities' manifests (service.capabilities).
@functools.cache
def held_tables() -> tuple[str, ...]:
    """Rows of an erased account that the hold keeps, each table with an ``account_id``."""
    return tuple(entry.table for entry in personal_data.HELD if entry.through is None)


@functools.cache
def link_tables() -> tuple[tuple[str, str, str], ...]:
    """Rows that reference held rows and go with them: (table, its reference, the held table)."""
    return (
        ("case_documents", "document_id", "documents"),
        ("qualification_documents", "qualification_id", "qualifications"),
        *((entry.table, *entry.through) for entry in personal_data.HELD if entry.through is not None),
    )


# Both statements start from the erased accounts whose hold ($1) has ended. The table names are the
# registry's, never input.
_ENDED = """ended AS (
    SELECT account_id FROM erasure_ledger WHERE category = 'account'
    GROUP BY account_id HAVING max(erased_at) < now() - $1::interval
)"""


@functools.cache
def _count_ended() -> str:
    return f"WITH {_ENDED}\nSELECT count(*) FROM ended e WHERE " + "\n   OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE account_id = e.account_id)" for table in held_tables()
    )


@functools.cache
def _purge_ended() -> str:
    # One statement, so references between the held rows are checked once, after all are gone.
    deletes = {
        **{
            link: f"""DELETE FROM {link} l USING {held} h, ended e
           WHERE l.{reference} = h.id AND h.account_id = e.account_id RETURNING 1"""
            for link, reference, held in link_tables()
        },
        **{
            table: f"DELETE FROM {table} WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1"
            for table in held_tables()
        },
    }
    return (
        f"WITH {_ENDED},\n"
        + ",\n".join(f"{table}_gone AS ({delete})" for table, delete in deletes.items())
        + "\nSELECT "
        + " + ".join(f"(SELECT count(*) FROM {table}_gone)" for table in deletes)
    )


async def count_ended(conn: asyncpg.Connection, period: timedelta) -> int:
    """Erased accounts whose hold ended longer than ``period`` ago and still have held rows."""
    due: int = await conn.fetchval(_count_ended(), period)
    return due


async def purge_ended(_: Runtime, conn: asyncpg.Connection, period: timedelta) -> int:
    """Delete the held rows of those accounts, returning how many rows went."""
    purged: int = await conn.fetchval(_purge_ended(), period)
    return purged
