-- How a face verification was decided, for relying apps (whoami, the profile): whether the
-- presentation-attack detection that judged it was certified is recorded with the decision, and
-- whoami reads an account's latest verified attempt through an index of verified attempts only.
-- Every detector before this migration was the built-in active challenge, which is not certified.
ALTER TABLE face_verifications ADD COLUMN pad_certified boolean NOT NULL DEFAULT false;
-- Verified before decided_by was recorded (0024): automatic where the case was approved by the
-- checks, otherwise a person approved it.
UPDATE face_verifications f
SET decided_by = CASE WHEN EXISTS (SELECT 1 FROM review_case_events e
                                   WHERE e.case_id = f.case_id AND e.event = 'auto_approve')
                      THEN 'automatic' ELSE 'operator' END
WHERE f.status = 'verified' AND f.decided_by IS NULL;
CREATE INDEX face_verifications_verified_idx ON face_verifications (account_id, decided_at DESC NULLS LAST)
    WHERE status = 'verified';
