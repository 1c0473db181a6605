-- Archiving whole months of the audit trail (`idv audit archive`, service/audit/archive.py).
-- A month's entries leave the database only in the transaction that wrote their archive record:
-- the file's SHA-256 and entry count, and every chain's head before and after the month (the
-- "after" also a checkpoint). Verification then starts each chain from the last archived head.
CREATE TABLE audit_archives (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The first day of the archived month (UTC).
    month date NOT NULL UNIQUE CHECK (extract(day FROM month) = 1),
    entries bigint NOT NULL CHECK (entries >= 0),
    file_name text NOT NULL,
    sha256 bytea NOT NULL CHECK (length(sha256) = 32),
    archived_at timestamptz NOT NULL DEFAULT now(),
    -- The transaction that wrote the record: the only one that may delete the entries it covers.
    xact xid8 NOT NULL DEFAULT pg_current_xact_id()
);

CREATE TABLE audit_archive_chains (
    archive_id bigint NOT NULL REFERENCES audit_archives (id),
    chain smallint NOT NULL REFERENCES audit_chains (chain),
    -- The chain's head before the month (0 and its genesis hash, or the previous archive's end)
    start_seq bigint NOT NULL CHECK (start_seq >= 0),
    start_hash bytea NOT NULL,
    -- and at its end; the archived entries are seq start_seq + 1 .. end_seq.
    end_seq bigint NOT NULL CHECK (end_seq >= start_seq),
    end_hash bytea NOT NULL,
    -- The checkpoint recorded for the end (none for a chain that never had an entry).
    checkpoint_id bigint REFERENCES audit_checkpoints (id),
    PRIMARY KEY (archive_id, chain)
);
CREATE INDEX audit_archive_chains_chain_idx ON audit_archive_chains (chain, end_seq);

CREATE TRIGGER audit_archives_append_only BEFORE UPDATE OR DELETE ON audit_archives
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_archives_no_truncate BEFORE TRUNCATE ON audit_archives
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_archive_chains_append_only BEFORE UPDATE OR DELETE ON audit_archive_chains
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_archive_chains_no_truncate BEFORE TRUNCATE ON audit_archive_chains
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
-- Archiving runs as the owner (IDV_MIGRATIONS_DATABASE_URL); the service only reads the records.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_archives, audit_archive_chains FROM idv_service;

-- Finding a month's entries reads only that month's blocks (the trail is written in time order).
CREATE INDEX audit_log_at_brin ON audit_log USING brin (at);

-- UPDATE stays refused; DELETE is allowed for exactly the entries an archive record written in the
-- same transaction covers. The service role holds no DELETE privilege on audit_log at all.
CREATE FUNCTION audit_delete_archived_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.audit_archive_chains c JOIN public.audit_archives a ON a.id = c.archive_id
               WHERE a.xact = pg_current_xact_id() AND c.chain = OLD.chain
                 AND OLD.seq > c.start_seq AND OLD.seq <= c.end_seq) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: only entries archived in this transaction may be removed'
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_delete_archived_only BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_delete_archived_only();

-- As migration 0004's, except that a chain whose entries were all archived continues from its
-- archived head instead of starting over from its genesis hash.
CREATE OR REPLACE FUNCTION audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    chains CONSTANT integer := 16;  -- the rows of audit_chains
    start integer := pg_backend_pid() % chains;
    picked integer;
    last record;
BEGIN
    FOR i IN 0 .. chains - 1 LOOP
        IF pg_try_advisory_xact_lock(x'1D7A'::integer, (start + i) % chains) THEN
            picked := (start + i) % chains;
            EXIT;
        END IF;
    END LOOP;
    IF picked IS NULL THEN
        -- Every chain is held by another transaction: wait for this backend's own.
        picked := start;
        PERFORM pg_advisory_xact_lock(x'1D7A'::integer, picked);
    END IF;
    SELECT a.seq, a.hash INTO last FROM public.audit_log a WHERE a.chain = picked ORDER BY a.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT c.end_seq AS seq, c.end_hash AS hash INTO last FROM public.audit_archive_chains c
        WHERE c.chain = picked ORDER BY c.end_seq DESC LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        SELECT 0::bigint AS seq, c.genesis AS hash INTO STRICT last FROM public.audit_chains c WHERE c.chain = picked;
    END IF;
    NEW.chain := picked;
    NEW.seq := last.seq + 1;
    NEW.at := clock_timestamp();
    NEW.prev_hash := last.hash;
    NEW.hash := sha256(last.hash || convert_to(public.audit_canonical(NEW), 'UTF8'));
    RETURN NEW;
END;
$$;
