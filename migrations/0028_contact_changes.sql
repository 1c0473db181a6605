-- A signed-in person adds, changes and removes contacts (issue 19). Each contact gets an id the
-- API names it by, and the person chooses which verified one receives notices (at most one per
-- account). An address being added waits in contact_additions until its code proves it: it holds
-- nothing (no unique index), so an address pending on one account never blocks another, and the
-- verification moves it into contacts, whose unique constraint lets exactly one account have it.
ALTER TABLE contacts ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE contacts ADD CONSTRAINT contacts_id_key UNIQUE (id);
ALTER TABLE contacts ADD COLUMN receives_notices boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX contacts_notice_recipient_idx ON contacts (account_id) WHERE receives_notices;

CREATE TABLE contact_additions (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    kind text NOT NULL CHECK (kind IN ('email', 'phone')),
    address bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- One address of each kind waits at a time: a new one replaces it.
    CONSTRAINT contact_additions_one_per_kind UNIQUE (account_id, kind)
);
CREATE INDEX contact_additions_expiry_idx ON contact_additions (expires_at);
