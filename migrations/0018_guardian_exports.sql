-- A guardian may export their ward's data: the export is the ward's (sealed under the ward's
-- key) and only whoever asked for it downloads it.
ALTER TABLE data_exports ADD COLUMN requested_by uuid REFERENCES accounts (id);
UPDATE data_exports SET requested_by = account_id WHERE requested_by IS NULL;
ALTER TABLE data_exports ALTER COLUMN requested_by SET NOT NULL;
CREATE INDEX data_exports_requester_idx ON data_exports (requested_by, requested_at);
