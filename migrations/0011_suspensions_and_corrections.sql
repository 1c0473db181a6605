-- Suspensions name the case that caused them, so overturning that case on appeal reinstates
-- the account (and nothing else does by accident).
ALTER TABLE account_state_changes ADD COLUMN case_id uuid REFERENCES review_cases (id);

-- A corrected identity replaces the verification it corrects; the old row stays on record.
ALTER TABLE real_name_verifications DROP CONSTRAINT real_name_verifications_status_check;
ALTER TABLE real_name_verifications ADD CONSTRAINT real_name_verifications_status_check
    CHECK (status IN ('pending', 'verified', 'rejected', 'withdrawn', 'superseded'));

-- Requests to correct data fixed at registration or by verification. The requested values are
-- sealed under the person's key in the same contexts as the values they replace, so applying an
-- approved request copies ciphertext and never needs the plaintext.
CREATE TABLE correction_requests (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    case_id uuid NOT NULL UNIQUE REFERENCES review_cases (id),
    status text NOT NULL CHECK (status IN ('pending', 'applied', 'refused', 'withdrawn')),
    birth_date bytea,
    legal_name bytea,
    id_number bytea,
    id_number_index bytea,
    -- The birth date the corrected identity encodes, sealed as real-name verifications seal it.
    identity_birth_date bytea,
    document_type text,
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    CHECK (birth_date IS NOT NULL OR legal_name IS NOT NULL OR id_number IS NOT NULL)
);
CREATE UNIQUE INDEX correction_one_pending_per_account_idx ON correction_requests (account_id)
    WHERE status = 'pending';
