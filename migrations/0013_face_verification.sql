-- Face verification: a liveness challenge, then the live face matched against the document's
-- portrait. Scores, thresholds, model versions and reason codes are kept for every decision;
-- the face template is sealed under the person's separate biometric key (see service/face), so
-- withdrawing the biometric consent or erasing the account destroys it with that key.
CREATE TABLE face_verifications (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    case_id uuid NOT NULL REFERENCES review_cases (id),
    status text NOT NULL CHECK (status IN (
        'challenged', 'processing', 'retry', 'verified', 'rejected', 'in_review', 'expired', 'withdrawn')),
    actions text[] NOT NULL,
    nonce_digest bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    score double precision,
    accept_threshold double precision,
    reject_threshold double precision,
    model_version text,
    liveness_method text,
    reason_codes text[] NOT NULL DEFAULT '{}',
    template bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz
);
CREATE INDEX face_verifications_account_idx ON face_verifications (account_id, created_at);

-- Images kept only while an operator reviews the grey band, sealed under the biometric key.
CREATE TABLE face_samples (
    verification_id uuid NOT NULL REFERENCES face_verifications (id),
    role text NOT NULL CHECK (role IN ('document', 'live')),
    content bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (verification_id, role),
    CHECK ((content IS NULL) = (deleted_at IS NOT NULL))
);
