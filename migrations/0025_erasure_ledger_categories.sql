-- The erasure ledger records partial erasures too: what category of data, of whom, which items
-- and when, so that `idv erasures replay` re-applies them to a restored backup (face data erased
-- when the biometric consent was withdrawn, documents after a decision, images after review,
-- exports past their download period). Whole-account erasures are category 'account'.
ALTER TABLE erasure_ledger
    ADD COLUMN category text NOT NULL DEFAULT 'account',
    ADD COLUMN items uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX erasure_ledger_account_idx ON erasure_ledger (account_id, category);

-- When content goes, the database records it, whichever code path erased it (as the audit
-- triggers do). A replay sets idv.replayed_erased_at so what it redoes keeps the original time.
CREATE FUNCTION erasure_time() RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('idv.replayed_erased_at', true), '')::timestamptz, now())
$$;

CREATE FUNCTION ledger_documents_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.erasure_ledger (account_id, reason, category, items, erased_at)
    SELECT n.account_id, 'content_erased', 'documents', array_agg(n.id ORDER BY n.id), public.erasure_time()
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.content IS NOT NULL AND n.content IS NULL
    GROUP BY n.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER documents_erasures_ledgered AFTER UPDATE ON documents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_documents_erased();

CREATE FUNCTION ledger_face_images_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.erasure_ledger (account_id, reason, category, items, erased_at)
    SELECT v.account_id, 'content_erased', 'face_images', array_agg(DISTINCT n.verification_id), public.erasure_time()
    FROM old_rows o JOIN new_rows n ON n.verification_id = o.verification_id AND n.role = o.role
    JOIN public.face_verifications v ON v.id = n.verification_id
    WHERE o.content IS NOT NULL AND n.content IS NULL
    GROUP BY v.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER face_samples_erasures_ledgered AFTER UPDATE ON face_samples
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_face_images_erased();

CREATE FUNCTION ledger_face_templates_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.erasure_ledger (account_id, reason, category, items, erased_at)
    SELECT n.account_id, 'content_erased', 'face_templates', array_agg(n.id ORDER BY n.id), public.erasure_time()
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.template IS NOT NULL AND n.template IS NULL
    GROUP BY n.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER face_verifications_erasures_ledgered AFTER UPDATE ON face_verifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_face_templates_erased();

CREATE FUNCTION ledger_exports_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.erasure_ledger (account_id, reason, category, items, erased_at)
    SELECT n.account_id, 'content_erased', 'exports', array_agg(n.id ORDER BY n.id), public.erasure_time()
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.archive IS NOT NULL AND n.archive IS NULL
    GROUP BY n.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER data_exports_erasures_ledgered AFTER UPDATE ON data_exports
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_exports_erased();
