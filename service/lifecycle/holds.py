"""The legal hold on an erased account's transaction records.

Erasure keeps the records that show what was done, not who it was done to: real-name checks
(status, provider, provider reference, times), face verifications (scores, thresholds, model
version), qualification decisions, corrections, uploads' sizes, exports, the cancellation, and
what was disclosed to recipients and when they were told. ``minimize`` blanks every personal value
they still hold at erasure (sealed values were unreadable already, their key destroyed; blanking
also drops their lengths and the blind index). The ``legal_hold`` retention category deletes them
when the hold ends (default three years after the erasure; ``IDV_RETENTION=legal_hold=...``).

What stays for good holds no personal value: the tombstone, its state history, the consent
ledger, case events, the audit trail and the erasure ledger (needed to replay erasures onto a
restored backup).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

MINIMIZE = (
    """UPDATE real_name_verifications
       SET legal_name = ''::bytea, id_number = ''::bytea, birth_date = ''::bytea, id_number_index = ''::bytea,
           status = CASE WHEN status IN ('pending', 'verified') THEN 'withdrawn' ELSE status END, updated_at = now()
       WHERE account_id = $1""",
    """UPDATE qualifications
       SET organization_name = ''::bytea, credit_code = ''::bytea, job_title = ''::bytea, work_email = ''::bytea
       WHERE account_id = $1""",
    """UPDATE correction_requests
       SET birth_date = CASE WHEN birth_date IS NULL THEN NULL ELSE ''::bytea END,
           legal_name = CASE WHEN legal_name IS NULL THEN NULL ELSE ''::bytea END,
           id_number = CASE WHEN id_number IS NULL THEN NULL ELSE ''::bytea END,
           id_number_index = NULL, identity_birth_date = NULL
       WHERE account_id = $1""",
)

# Both start from the erased accounts whose hold ($1) has ended.
COUNT_ENDED = """WITH ended AS (
    SELECT account_id FROM erasure_ledger GROUP BY account_id HAVING max(erased_at) < now() - $1::interval
)
SELECT count(*) FROM ended e
WHERE EXISTS (SELECT 1 FROM real_name_verifications WHERE account_id = e.account_id)
   OR EXISTS (SELECT 1 FROM face_verifications WHERE account_id = e.account_id)
   OR EXISTS (SELECT 1 FROM qualifications WHERE account_id = e.account_id)
   OR EXISTS (SELECT 1 FROM correction_requests WHERE account_id = e.account_id)
   OR EXISTS (SELECT 1 FROM documents WHERE account_id = e.account_id)
   OR EXISTS (SELECT 1 FROM data_exports WHERE account_id = e.account_id)
   OR EXISTS (SELECT 1 FROM cancellations WHERE account_id = e.account_id)
   OR EXISTS (SELECT 1 FROM disclosures WHERE account_id = e.account_id)
   OR EXISTS (SELECT 1 FROM recipient_notices WHERE account_id = e.account_id)"""

# One statement, so references between the held rows are checked once, after all are gone.
PURGE_ENDED = """WITH ended AS (
    SELECT account_id FROM erasure_ledger GROUP BY account_id HAVING max(erased_at) < now() - $1::interval
),
case_documents_gone AS (
    DELETE FROM case_documents c USING documents d, ended e
    WHERE c.document_id = d.id AND d.account_id = e.account_id RETURNING 1
), qualification_documents_gone AS (
    DELETE FROM qualification_documents q USING qualifications x, ended e
    WHERE q.qualification_id = x.id AND x.account_id = e.account_id RETURNING 1
), face_samples_gone AS (
    DELETE FROM face_samples s USING face_verifications f, ended e
    WHERE s.verification_id = f.id AND f.account_id = e.account_id RETURNING 1
), held_gone AS (
    DELETE FROM real_name_verifications WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
), faces_gone AS (
    DELETE FROM face_verifications WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
), qualifications_gone AS (
    DELETE FROM qualifications WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
), corrections_gone AS (
    DELETE FROM correction_requests WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
), documents_gone AS (
    DELETE FROM documents WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
), exports_gone AS (
    DELETE FROM data_exports WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
), cancellations_gone AS (
    DELETE FROM cancellations WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
), disclosures_gone AS (
    DELETE FROM disclosures WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
), notices_gone AS (
    DELETE FROM recipient_notices WHERE account_id IN (SELECT account_id FROM ended) RETURNING 1
)
SELECT (SELECT count(*) FROM held_gone) + (SELECT count(*) FROM faces_gone)
     + (SELECT count(*) FROM qualifications_gone) + (SELECT count(*) FROM corrections_gone)
     + (SELECT count(*) FROM documents_gone) + (SELECT count(*) FROM exports_gone)
     + (SELECT count(*) FROM cancellations_gone) + (SELECT count(*) FROM disclosures_gone)
     + (SELECT count(*) FROM notices_gone) + (SELECT count(*) FROM case_documents_gone)
     + (SELECT count(*) FROM qualification_documents_gone) + (SELECT count(*) FROM face_samples_gone)"""


async def minimize(conn: asyncpg.Connection, account_id: UUID) -> None:
    for statement in MINIMIZE:
        await conn.execute(statement, account_id)
