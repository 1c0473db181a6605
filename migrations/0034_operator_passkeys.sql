-- Operators' passkeys (issue 21): WebAuthn credentials an operator enrolled, the single-use
-- challenges of their ceremonies (service/operators), and how each operator session signed in.
-- Kept apart from people's passkey_credentials: a credential belongs to one kind of owner, each
-- sign-in looks only in its own table, and erasing an account never touches staff credentials.
CREATE TABLE operator_passkeys (
    id uuid PRIMARY KEY,
    operator_id uuid NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    credential_id bytea NOT NULL UNIQUE CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
    public_key bytea NOT NULL,
    sign_count bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
    -- The operator's name for it, sealed under the operator's data key (vault field operator.passkey_name).
    name bytea NOT NULL,
    aaguid text NOT NULL,
    backup_eligible boolean NOT NULL,
    backed_up boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX operator_passkeys_by_operator_idx ON operator_passkeys (operator_id, created_at);

-- Consumed by DELETE ... RETURNING (used at most once): an enrolment's is bound to the operator
-- session that asked for it, a sign-in's to the flow id returned with it.
CREATE TABLE operator_passkey_challenges (
    id uuid PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('enrolment', 'sign_in')),
    challenge bytea NOT NULL,
    session_id uuid REFERENCES operator_sessions (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    CHECK ((purpose = 'enrolment') = (session_id IS NOT NULL))
);
CREATE INDEX operator_passkey_challenges_expiry_idx ON operator_passkey_challenges (expires_at);

-- With IDV_OPERATOR_REQUIRE_PASSKEY=true only a passkey session may act; a password and TOTP
-- session may only enrol the operator's first passkey.
ALTER TABLE operator_sessions
    ADD COLUMN signed_in_with text NOT NULL DEFAULT 'password_totp'
        CHECK (signed_in_with IN ('password_totp', 'passkey'));
