-- The language a person reads (issue 24): their messages and, without Accept-Language, their answers.
-- NULL for accounts registered before it existed: they get IDV_DEFAULT_LANGUAGE.
ALTER TABLE accounts ADD COLUMN preferred_language text
    CHECK (preferred_language IN ('zh-CN', 'en'));

-- A policy version's texts in other languages than its published (English) one. A translation is
-- not a new version: consents to the version stay valid, and each records the text it was given to.
CREATE TABLE policy_translations (
    kind text NOT NULL,
    version text NOT NULL,
    language text NOT NULL CHECK (language IN ('zh-CN')),
    title text NOT NULL,
    sha256 text NOT NULL,
    source text NOT NULL,
    published_by text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, version, language),
    FOREIGN KEY (kind, version) REFERENCES policy_versions (kind, version)
);
CREATE TRIGGER policy_translations_append_only BEFORE UPDATE OR DELETE ON policy_translations
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER policy_translations_no_truncate BEFORE TRUNCATE ON policy_translations
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON policy_translations FROM idv_service;

-- The language of the text a consent was given to (policy_sha256 is that text's); NULL before this.
ALTER TABLE consent_events ADD COLUMN policy_language text;
