-- Minors and their guardians. A minor invites a guardian by e-mail or phone; the invitation's
-- code is stored only as a keyed hash. A guardianship records who consented for whom, as what,
-- and to which scopes; the consents themselves go to the ledger under the minor's account with
-- the guardian as the actor.
CREATE TABLE guardian_invitations (
    id uuid PRIMARY KEY,
    minor_account_id uuid NOT NULL REFERENCES accounts (id),
    contact_kind text NOT NULL CHECK (contact_kind IN ('email', 'phone')),
    contact bytea NOT NULL,
    code_digest bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX guardian_invitations_minor_idx ON guardian_invitations (minor_account_id, created_at);

CREATE TABLE guardianships (
    id uuid PRIMARY KEY,
    minor_account_id uuid NOT NULL REFERENCES accounts (id),
    guardian_account_id uuid NOT NULL REFERENCES accounts (id),
    relationship text NOT NULL CHECK (relationship IN ('parent', 'legal_guardian')),
    scopes text[] NOT NULL,
    state text NOT NULL CHECK (state IN ('pending_review', 'active', 'refused', 'revoked', 'ended')),
    case_id uuid REFERENCES review_cases (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    end_reason text,
    CHECK (minor_account_id <> guardian_account_id)
);
CREATE UNIQUE INDEX guardianships_one_live_idx ON guardianships (minor_account_id, guardian_account_id)
    WHERE state IN ('pending_review', 'active');
CREATE INDEX guardianships_guardian_idx ON guardianships (guardian_account_id) WHERE state IN ('pending_review', 'active');
