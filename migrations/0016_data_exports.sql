-- Exports of everything held about a person, sealed under their key, downloadable for a while.
CREATE TABLE data_exports (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    status text NOT NULL CHECK (status IN ('preparing', 'ready', 'expired')),
    archive bytea,
    requested_at timestamptz NOT NULL DEFAULT now(),
    ready_at timestamptz,
    expires_at timestamptz,
    downloaded_at timestamptz,
    CHECK ((archive IS NOT NULL) = (status = 'ready'))
);
CREATE INDEX data_exports_account_idx ON data_exports (account_id, requested_at);
CREATE INDEX data_exports_expiry_idx ON data_exports (expires_at) WHERE status = 'ready';
