-- Cancellation ("logging out" of the account for good): requested, cooled off, then erased.
CREATE TABLE cancellations (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    requested_at timestamptz NOT NULL DEFAULT now(),
    erase_after timestamptz NOT NULL,
    withdrawn_at timestamptz,
    erased_at timestamptz
);
CREATE UNIQUE INDEX cancellations_one_open_idx ON cancellations (account_id)
    WHERE withdrawn_at IS NULL AND erased_at IS NULL;
CREATE INDEX cancellations_due_idx ON cancellations (erase_after) WHERE withdrawn_at IS NULL AND erased_at IS NULL;

-- Every erasure, by pseudonymous id and time only: what a restored backup must have re-applied.
CREATE TABLE erasure_ledger (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL,
    reason text NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER erasure_ledger_append_only BEFORE UPDATE OR DELETE ON erasure_ledger
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER erasure_ledger_no_truncate BEFORE TRUNCATE ON erasure_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON erasure_ledger FROM idv_service;
