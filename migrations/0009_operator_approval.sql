-- Operators created through the API wait for a second admin's approval; only then is their
-- enrolment code made, and it goes to their own e-mail address, never to an admin.
ALTER TABLE operators ADD COLUMN approved_by text, ADD COLUMN approved_at timestamptz;
UPDATE operators SET approved_by = created_by, approved_at = created_at;

-- The courier writes to operators as well as accounts: messages belong to a data-key owner.
ALTER TABLE courier_messages DROP CONSTRAINT courier_messages_account_id_fkey;
ALTER TABLE courier_messages RENAME COLUMN account_id TO owner_id;
ALTER TABLE courier_messages ADD CONSTRAINT courier_messages_owner_fkey
    FOREIGN KEY (owner_id) REFERENCES data_keys (owner_id);
