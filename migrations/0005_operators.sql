-- KYC operators: separate from end users, enrolled with a one-time code, TOTP mandatory.
-- The e-mail address is sealed under the operator's own data key and found by blind index.

CREATE TABLE operators (
    id uuid PRIMARY KEY REFERENCES data_keys (owner_id),
    email bytea NOT NULL,
    email_index bytea NOT NULL UNIQUE,
    roles text[] NOT NULL CHECK (
        cardinality(roles) > 0
        AND roles <@ ARRAY['reviewer', 'senior_reviewer', 'privacy_officer', 'admin']
    ),
    password_hash text,
    totp_secret bytea,
    totp_last_step bigint,
    enrolment_digest bytea UNIQUE,
    enrolment_expires_at timestamptz,
    enrolled_at timestamptz,
    disabled_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT operators_enrolled_has_factors CHECK (
        enrolled_at IS NULL OR (password_hash IS NOT NULL AND totp_secret IS NOT NULL)
    )
);

CREATE TABLE operator_sessions (
    id uuid PRIMARY KEY,
    operator_id uuid NOT NULL REFERENCES operators (id),
    token_digest bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    end_reason text
);
CREATE INDEX operator_sessions_live_idx ON operator_sessions (operator_id) WHERE ended_at IS NULL;
