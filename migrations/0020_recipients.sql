-- Recipients of personal data (relying parties, processors), what each received and when, and
-- the notices they must acknowledge when a person's data is erased, corrected, or a consent is
-- withdrawn. Notices carry only the pseudonymous account id and codes.
CREATE TABLE recipients (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('relying_party', 'processor')),
    webhook_url text NOT NULL,
    secret bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

CREATE TABLE disclosures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id uuid NOT NULL REFERENCES recipients (id),
    account_id uuid NOT NULL REFERENCES accounts (id),
    categories text[] NOT NULL,
    disclosed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disclosures_account_idx ON disclosures (account_id, recipient_id);

CREATE TABLE recipient_notices (
    id uuid PRIMARY KEY,
    recipient_id uuid NOT NULL REFERENCES recipients (id),
    account_id uuid NOT NULL,
    event text NOT NULL CHECK (event IN ('account.erased', 'consent.withdrawn', 'data.corrected')),
    payload bytea NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz
);
CREATE INDEX recipient_notices_open_idx ON recipient_notices (created_at) WHERE acknowledged_at IS NULL;
