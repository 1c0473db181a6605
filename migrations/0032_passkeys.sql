-- Passkeys (issue 21): WebAuthn credentials a person enrolled, and the single-use challenges of the
-- enrolment and sign-in ceremonies (service/passkeys).
CREATE TABLE passkey_credentials (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The authenticator's id for the credential (what allowCredentials and an assertion name).
    credential_id bytea NOT NULL UNIQUE CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
    public_key bytea NOT NULL,
    sign_count bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
    -- The person's name for it, sealed under the account's data key (vault field passkey.name).
    name bytea NOT NULL,
    aaguid text NOT NULL,
    -- Backup eligible (a synced, multi-device passkey) and backed up, as the authenticator last said.
    backup_eligible boolean NOT NULL,
    backed_up boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX passkey_credentials_by_account_idx ON passkey_credentials (account_id, created_at);

-- A challenge is consumed by deleting it (DELETE ... RETURNING), so it is used at most once even by
-- parallel requests. An enrolment's is bound to the session that asked for it, a sign-in's to the
-- flow id returned with it (and to the account when an identifier named one).
CREATE TABLE passkey_challenges (
    id uuid PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('enrolment', 'sign_in')),
    challenge bytea NOT NULL,
    session_id uuid REFERENCES sessions (id) ON DELETE CASCADE,
    account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    CHECK ((purpose = 'enrolment') = (session_id IS NOT NULL))
);
CREATE INDEX passkey_challenges_expiry_idx ON passkey_challenges (expires_at);
