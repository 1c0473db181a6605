-- Whoami without a database round trip (issue 23): each process keeps resolved sessions in memory
-- (service/sessions/cache.py) and drops an account's when told. Told by the database itself, so that
-- no code path can forget: every write to what whoami reads notifies `idv_sessions_changed` with the
-- account id (delivered on commit; one notification per account and transaction, PostgreSQL folds
-- duplicates). TG_ARGV[0] names the table's account column.
CREATE FUNCTION notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
    ELSE
        changed := NEW;
    END IF;
    PERFORM pg_notify('idv_sessions_changed', to_jsonb(changed) ->> TG_ARGV[0]);
    IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) ->> TG_ARGV[0]) IS DISTINCT FROM (to_jsonb(NEW) ->> TG_ARGV[0]) THEN
        PERFORM pg_notify('idv_sessions_changed', to_jsonb(OLD) ->> TG_ARGV[0]);
    END IF;
    RETURN NULL;
END;
$$;

-- A session ending (sign-out, revocation, password change, erasure); not the once-a-minute
-- last_seen_at write, nor a new session (its token is not cached anywhere yet).
CREATE TRIGGER sessions_notify_change AFTER UPDATE ON sessions
    FOR EACH ROW WHEN (OLD.ended_at IS DISTINCT FROM NEW.ended_at
                       OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
                       OR OLD.assurance IS DISTINCT FROM NEW.assurance
                       OR OLD.token_digest IS DISTINCT FROM NEW.token_digest
                       OR OLD.account_id IS DISTINCT FROM NEW.account_id)
    EXECUTE FUNCTION notify_session_change('account_id');
CREATE TRIGGER sessions_notify_delete AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('account_id');

-- The account's state (suspension, restriction, closure) and doubt.
CREATE TRIGGER accounts_notify_change AFTER UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('id');

-- What whoami reports the account proved, and its consents.
CREATE TRIGGER contacts_notify_change AFTER INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('account_id');
CREATE TRIGGER totp_credentials_notify_change AFTER INSERT OR UPDATE OR DELETE ON totp_credentials
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('account_id');
CREATE TRIGGER real_name_verifications_notify_change AFTER INSERT OR UPDATE OR DELETE ON real_name_verifications
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('account_id');
CREATE TRIGGER face_verifications_notify_change AFTER INSERT OR UPDATE OR DELETE ON face_verifications
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('account_id');
CREATE TRIGGER review_cases_notify_change AFTER INSERT OR UPDATE OR DELETE ON review_cases
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('subject_account_id');
CREATE TRIGGER qualifications_notify_change AFTER INSERT OR UPDATE OR DELETE ON qualifications
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('account_id');
CREATE TRIGGER consent_events_notify_change AFTER INSERT ON consent_events
    FOR EACH ROW EXECUTE FUNCTION notify_session_change('account_id');
