-- Images of automated face decisions may be kept for a configured while (default none); this is
-- when each goes. NULL: kept until the case under review is decided.
ALTER TABLE face_samples ADD COLUMN keep_until timestamptz;
CREATE INDEX face_samples_keep_until_idx ON face_samples (keep_until) WHERE content IS NOT NULL;
