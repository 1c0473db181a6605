-- Growth (issue 23): the nightly jobs and the operator queue cost in proportion to the rows they
-- want, not to the table. Plans checked with bench/scale.py are in README ("Scale"); tests in
-- tests/lifecycle/test_plans.py and tests/cases/test_queue_plan.py keep them.
--
-- Plain CREATE INDEX: the migration runner applies each file in one transaction, where CREATE INDEX
-- CONCURRENTLY is refused. On a large production table build each of these by hand first, outside a
-- transaction, with the same name (CREATE INDEX CONCURRENTLY IF NOT EXISTS ...; if it fails it leaves an
-- INVALID index to drop and retry); this migration then finds them. The exception is review_cases_queue_idx,
-- which this migration drops and rebuilds with new columns: it covers open cases only, so it is small, but
-- its build reads the whole table.

-- The operator queue lists open cases by priority, due time and id: an index in exactly that order over
-- open cases only, so the first page is read from the index and closed cases are never touched. It
-- replaces the (state, due_at) index of 0006 under the same name; the overdue sweep, which filters by
-- state and due time, reads the same few open rows.
DROP INDEX IF EXISTS review_cases_queue_idx;
CREATE INDEX IF NOT EXISTS review_cases_queue_idx ON review_cases (priority, due_at, id) WHERE closed_at IS NULL;
-- "mine": an operator's own open cases, in the queue's order, without walking everyone's.
CREATE INDEX IF NOT EXISTS review_cases_assignee_idx ON review_cases (assignee_id, priority, due_at, id)
    WHERE closed_at IS NULL AND assignee_id IS NOT NULL;
-- The queue filters on the type whose roles work a case (an appeal's: the appealed type). Without
-- statistics on that expression the planner guesses it matches 0.5% of open cases, and at 10k open
-- cases chose to read and sort them all rather than walk the index above (bench/scale.py).
CREATE STATISTICS IF NOT EXISTS review_cases_worked_type ON (coalesce(appealed_case_type, case_type)) FROM review_cases;
-- Closed-case evidence retention: cases closed longer ago than the period.
CREATE INDEX IF NOT EXISTS review_cases_closed_idx ON review_cases (closed_at) WHERE closed_at IS NOT NULL;

-- Retention of sessions, one-time codes and sent messages, on the very expressions they filter by.
CREATE INDEX IF NOT EXISTS sessions_retention_idx ON sessions ((coalesce(ended_at, expires_at)));
CREATE INDEX IF NOT EXISTS one_time_codes_expiry_idx ON one_time_codes (expires_at);
CREATE INDEX IF NOT EXISTS courier_messages_done_idx ON courier_messages (created_at)
    WHERE status IN ('sent', 'abandoned');

-- The jobs that look for accounts in a waiting or ended state (guardian window, unverified accounts,
-- terminated accounts) read these few, not every active account.
CREATE INDEX IF NOT EXISTS accounts_waiting_idx ON accounts (state, updated_at)
    WHERE state IN ('pending_verification', 'awaiting_guardian', 'suspended', 'terminated');

-- The audit-origins retention starts from the oldest live data key (month keys are data keys): the
-- first entry of this index, not a pass over one key per account.
CREATE INDEX IF NOT EXISTS data_keys_live_created_idx ON data_keys (created_at) WHERE destroyed_at IS NULL;
