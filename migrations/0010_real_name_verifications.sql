-- Real-name verifications: what a person claimed (sealed under their key), what the registry
-- said (outcome, provider, reference and time; never its raw response), and the case that
-- tracks it. The ID number is also kept as a keyed blind index, for one-identity-one-account.
CREATE TABLE real_name_verifications (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    case_id uuid NOT NULL REFERENCES review_cases (id),
    status text NOT NULL CHECK (status IN ('pending', 'verified', 'rejected', 'withdrawn')),
    document_type text NOT NULL,
    legal_name bytea NOT NULL,
    id_number bytea NOT NULL,
    id_number_index bytea NOT NULL,
    birth_date bytea NOT NULL,
    provider text,
    provider_outcome text,
    provider_reference text,
    checked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- One verification in progress or in force per account.
CREATE UNIQUE INDEX real_name_one_live_per_account_idx ON real_name_verifications (account_id)
    WHERE status IN ('pending', 'verified');
CREATE INDEX real_name_identity_idx ON real_name_verifications (id_number_index) WHERE status = 'verified';
CREATE INDEX real_name_account_idx ON real_name_verifications (account_id, created_at);
