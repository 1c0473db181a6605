-- The service runs as a member of idv_service, not as the owner of the tables: it may not
-- alter the schema, and it can only read and append to the append-only tables. Migrations
-- run as the owner (IDV_MIGRATIONS_DATABASE_URL). Roles belong to the cluster, so an
-- existing idv_service (created by a DBA, say) is used as it is.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'idv_service') THEN
        CREATE ROLE idv_service NOLOGIN;
    END IF;
END;
$$;

GRANT USAGE ON SCHEMA public TO idv_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO idv_service;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO idv_service;
-- Tables later migrations create get the same grants; append-only ones revoke theirs.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO idv_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO idv_service;

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM idv_service;
REVOKE UPDATE, DELETE, TRUNCATE
    ON audit_log, audit_checkpoints, consent_events, account_state_changes, review_case_events
    FROM idv_service;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_chains FROM idv_service;

-- No temporary tables for anyone but the owner: a temporary table named like one of ours would
-- come first in the service's search path.
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END;
$$;
