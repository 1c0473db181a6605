-- Face verification (issue 16): an operator reviewing the grey band sees every frame of the answer,
-- not only the document and the first frame; how a verification was decided is recorded; a
-- photo to retake keeps the challenge open a bounded number of times.
ALTER TABLE face_samples DROP CONSTRAINT face_samples_role_check;
ALTER TABLE face_samples ADD CONSTRAINT face_samples_role_check
    CHECK (role IN ('document', 'live') OR role ~ '^frame-[0-9]-[0-9]$');
-- 'automatic' (by the checks, liveness_method says which) or 'operator'; NULL until decided.
ALTER TABLE face_verifications ADD COLUMN decided_by text CHECK (decided_by IN ('automatic', 'operator'));
ALTER TABLE face_verifications ADD COLUMN retakes integer NOT NULL DEFAULT 0;
