-- The language a person reads (issue 24): their messages and, without Accept-Language, their answers.
-- NULL for accounts registered before it existed: they get IDV_DEFAULT_LANGUAGE.
ALTER TABLE accounts ADD COLUMN preferred_language text
    CHECK (preferred_language IN ('zh-CN', 'en'));
