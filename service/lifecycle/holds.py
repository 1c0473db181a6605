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

from service.lifecycle import personal_data

# Rows of an erased account that the hold keeps, each table with an ``account_id``.
HELD_TABLES = tuple(entry.table for entry in personal_data.HELD if entry.through is None)
# Rows that reference held rows and go with them: (table, its reference, the held table).
LINK_TABLES = (
    ("case_documents", "document_id", "documents"),
    ("qualification_documents", "qualification_id", "qualifications"),
    *((entry.table, *entry.through) for entry in personal_data.HELD if entry.through is not None),
)

# Both statements start from the erased accounts whose hold ($1) has ended. The table names are the
# constants above, never input.
_ENDED = """ended AS (
    SELECT account_id FROM erasure_ledger WHERE category = 'account'
    GROUP BY account_id HAVING max(erased_at) < now() - $1::interval
)"""

COUNT_ENDED = f"WITH {_ENDED}\nSELECT count(*) FROM ended e WHERE " + "\n   OR ".join(
    f"EXISTS (SELECT 1 FROM {table} WHERE account_id = e.account_id)" for table in HELD_TABLES
)

# One statement, so references between the held rows are checked once, after all are gone.
_DELETES = {
    **{
        link: f"""DELETE FROM {link} l USING {held} h, ended e
           WHERE l.{reference} = h.id AND h.account_id = e.account_id RETURNING 1"""
        for link, reference, held in LINK_TABLES
    },
    **{
        table: f"DELETE FROM {table} WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1"
        for table in HELD_TABLES
    },
}
PURGE_ENDED = (
    f"WITH {_ENDED},\n"
    + ",\n".join(f"{table}_gone AS ({delete})" for table, delete in _DELETES.items())
    + "\nSELECT "
    + " + ".join(f"(SELECT count(*) FROM {table}_gone)" for table in _DELETES)
)
