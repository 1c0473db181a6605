-- Master keys live in the secret store, not here; this records what idv saw of each key id, so it
-- can say when the active key is due for rotation and when an old one may leave IDV_MASTER_KEYS.
-- ``active_since``: when idv first found the key id active. ``emptied_at``: when re-wrapping left no
-- live data key under it (NULL while it wraps one); backups taken before then still hold data keys
-- it wraps, so it may be removed once the backups' retention has passed since.
CREATE TABLE master_keys (
    key_id text PRIMARY KEY,
    active_since timestamptz,
    emptied_at timestamptz
);

-- Re-indexing every blind-indexed column under a new blind-index key, in batches that survive a
-- crash: per pass, the last row done. ``key_fingerprint`` is an HMAC of a fixed label under the new
-- key, which names the key without revealing it. ``left_behind``: rows whose plaintext no key opens
-- any more (an identity bar of an erased person, an owner whose master key was removed), still
-- indexed under the previous key only.
CREATE TABLE blind_index_rotations (
    key_fingerprint bytea NOT NULL,
    target text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    last_row text,
    finished_at timestamptz,
    left_behind integer NOT NULL DEFAULT 0,
    PRIMARY KEY (key_fingerprint, target)
);
