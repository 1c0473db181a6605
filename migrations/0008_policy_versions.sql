-- Published policy versions. A version never changes once published: consent entries name it by
-- version and hash, so its text is what the person agreed to. Newer text is a new version.
CREATE TABLE policy_versions (
    kind text NOT NULL,
    version text NOT NULL CHECK (version ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[0-9]{1,3})?$'),
    title text NOT NULL,
    effective_at date NOT NULL,
    major boolean NOT NULL,
    sha256 text NOT NULL,
    source text NOT NULL,
    published_by text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, version)
);

CREATE TRIGGER policy_versions_append_only BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON policy_versions FROM idv_service;
