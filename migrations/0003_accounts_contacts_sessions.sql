-- Accounts, their contacts, one-time codes, the courier outbox, sessions, sign-in throttling,
-- TOTP and the first entries of the consent ledger. Personal values are sealed with the
-- owner's data key (bytea); look-ups go through keyed blind indexes (*_index).

CREATE TABLE accounts (
    id uuid PRIMARY KEY REFERENCES data_keys (owner_id),
    state text NOT NULL,
    display_name bytea NOT NULL,
    username bytea,
    username_index bytea UNIQUE,
    birth_date bytea NOT NULL,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_username_pair CHECK ((username IS NULL) = (username_index IS NULL))
);

-- Every state change, with who made it and why; rows are never updated or deleted.
CREATE TABLE account_state_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    from_state text,
    to_state text NOT NULL,
    event text NOT NULL,
    actor text NOT NULL,
    reason_code text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_state_changes_account_idx ON account_state_changes (account_id, at);

CREATE TABLE contacts (
    account_id uuid NOT NULL REFERENCES accounts (id),
    kind text NOT NULL CHECK (kind IN ('email', 'phone')),
    address bytea NOT NULL,
    address_index bytea NOT NULL,
    verified_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, kind),
    CONSTRAINT contacts_address_unique UNIQUE (kind, address_index)
);

CREATE TABLE one_time_codes (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    purpose text NOT NULL,
    code_digest bytea NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    consumed_at timestamptz
);
CREATE INDEX one_time_codes_lookup_idx ON one_time_codes (account_id, purpose, created_at DESC);

-- The courier's outbox: one row per message, delivered by the job runner.
CREATE TABLE courier_messages (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    channel text NOT NULL CHECK (channel IN ('email', 'sms')),
    template text NOT NULL,
    recipient bytea NOT NULL,
    variables bytea,
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'abandoned')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX courier_messages_account_idx ON courier_messages (account_id, created_at);

CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    token_digest bytea NOT NULL UNIQUE,
    assurance smallint NOT NULL CHECK (assurance IN (1, 2)),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    end_reason text,
    client_address bytea,
    user_agent bytea
);
CREATE INDEX sessions_live_by_account_idx ON sessions (account_id) WHERE ended_at IS NULL;

-- Failed sign-in attempts per subject (an account, an unknown identifier, a client address).
CREATE TABLE sign_in_throttle (
    subject bytea PRIMARY KEY,
    free_attempts integer NOT NULL,
    failures integer NOT NULL,
    next_allowed_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE totp_credentials (
    account_id uuid PRIMARY KEY REFERENCES accounts (id),
    secret bytea NOT NULL,
    confirmed_at timestamptz,
    last_used_step bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recovery_codes (
    account_id uuid NOT NULL REFERENCES accounts (id),
    code_digest bytea NOT NULL,
    used_at timestamptz,
    PRIMARY KEY (account_id, code_digest)
);

-- What each person agreed to, and when. Append-only: a trigger refuses updates and deletes.
CREATE TABLE consent_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    purpose text NOT NULL,
    policy_version text NOT NULL,
    policy_sha256 text NOT NULL,
    action text NOT NULL CHECK (action IN ('granted', 'withdrawn')),
    channel text NOT NULL,
    actor_account_id uuid NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_account_idx ON consent_events (account_id, purpose, at);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER account_state_changes_append_only BEFORE UPDATE OR DELETE ON account_state_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- When a subject that has failed `failures` times (with `free` attempts before back-off) may
-- try again: at once while under `free`, then after 1 s doubling up to 15 minutes. The wall
-- clock, not the transaction's start time, so a concurrent reservation that waited for the row
-- lock is judged by when it actually runs.
CREATE FUNCTION sign_in_next_allowed(failures integer, free integer) RETURNS timestamptz
LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN failures < free THEN '-infinity'::timestamptz
                ELSE clock_timestamp() + make_interval(secs => least(900, power(2, least(failures - free, 20))))
           END
$$;
