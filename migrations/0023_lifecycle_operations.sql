-- What the erasure job did with a cancellation (NULL while it is open): erased the account, found
-- it erased already (a replay onto a restored backup, say), or set it aside because the account is
-- in a state the erasure may not act on, a person's to decide (``outcome_reason`` names the state).
-- An unexpected error on one account is counted and the job goes on to the next; it tries again
-- at its next run. ``last_error`` holds the exception's class only, never its message.
ALTER TABLE cancellations
    ADD COLUMN outcome text CHECK (outcome IN ('erased', 'already_erased', 'set_aside')),
    ADD COLUMN outcome_reason text,
    ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error text;
UPDATE cancellations SET outcome = 'erased' WHERE erased_at IS NOT NULL;
ALTER TABLE cancellations ADD CONSTRAINT cancellations_erased_has_outcome
    CHECK ((erased_at IS NULL) = (outcome IS DISTINCT FROM 'erased'));
DROP INDEX cancellations_one_open_idx;
CREATE UNIQUE INDEX cancellations_one_open_idx ON cancellations (account_id)
    WHERE withdrawn_at IS NULL AND outcome IS NULL;
DROP INDEX cancellations_due_idx;
CREATE INDEX cancellations_due_idx ON cancellations (erase_after) WHERE withdrawn_at IS NULL AND outcome IS NULL;

-- The last run of each scheduled job, whichever replica ran it or `idv jobs run` (`idv jobs list`).
-- ``error`` is the exception's class, never its message.
CREATE TABLE scheduled_job_runs (
    name text PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    outcome text NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed')),
    error text,
    trigger text NOT NULL CHECK (trigger IN ('schedule', 'command')),
    last_succeeded_at timestamptz
);

-- A notice's delivery attempts are one job, found by its dedupe key (pgqueuer allows one queued or
-- running job per key): a resend while the automatic retries still run brings their next attempt
-- forward instead of starting a second chain. Jobs queued before this get their key here.
UPDATE pgqueuer SET dedupe_key = 'recipients.deliver_notice:' || (convert_from(payload, 'UTF8')::jsonb ->> 'notice_id')
WHERE id IN (
    SELECT DISTINCT ON (convert_from(payload, 'UTF8')::jsonb ->> 'notice_id') id FROM pgqueuer
    WHERE entrypoint = 'recipients.deliver_notice' AND dedupe_key IS NULL AND status IN ('queued', 'picked')
    ORDER BY convert_from(payload, 'UTF8')::jsonb ->> 'notice_id', id
);
