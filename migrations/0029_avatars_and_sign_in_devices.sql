-- A person's profile picture (issue 19): one a person, screened and re-encoded (no metadata survives),
-- square and at most 512 pixels a side, sealed under the account's data key (vault field
-- avatar.content). Deleted when the person removes it or the account is erased.
CREATE TABLE avatars (
    account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('jpeg', 'png')),
    content bytea NOT NULL,
    byte_size integer NOT NULL CHECK (byte_size > 0),
    side integer NOT NULL CHECK (side BETWEEN 1 AND 512),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Whether a sign-in comes from a new device is judged against the account's latest sessions, live or
-- ended, in the sign-in's transaction (service/sessions/new_device.py): an index, not a scan of sessions.
CREATE INDEX sessions_by_account_idx ON sessions (account_id, created_at DESC);
