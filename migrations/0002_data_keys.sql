-- One data key per owner (account or operator), wrapped by a master key from the environment.
-- Destroying a key clears its material but keeps the row as a record that it happened.
CREATE TABLE data_keys (
    owner_id uuid PRIMARY KEY,
    master_key_id text,
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    rewrapped_at timestamptz,
    destroyed_at timestamptz,
    CONSTRAINT data_keys_material_matches_state CHECK (
        (destroyed_at IS NULL AND master_key_id IS NOT NULL AND wrapped_key IS NOT NULL)
        OR (destroyed_at IS NOT NULL AND master_key_id IS NULL AND wrapped_key IS NULL)
    )
);

CREATE INDEX data_keys_master_key_idx ON data_keys (master_key_id) WHERE destroyed_at IS NULL;
