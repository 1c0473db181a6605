-- The audit trail: append-only and hash-chained. Entries are spread over a fixed set of
-- chains, each a hash chain of its own, so concurrent writers take different chain heads
-- instead of queueing behind one. A trigger links each entry; nothing the service sends can
-- choose its position or hash.

CREATE TABLE audit_chain_heads (
    chain smallint PRIMARY KEY,
    seq bigint NOT NULL,
    hash bytea NOT NULL
);

-- Each chain starts from a hash anyone can recompute: sha256('idv audit chain <n>').
INSERT INTO audit_chain_heads (chain, seq, hash)
SELECT c, 0, sha256(convert_to('idv audit chain ' || c, 'UTF8')) FROM generate_series(0, 15) AS c;

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain smallint NOT NULL,
    seq bigint NOT NULL,
    at timestamptz NOT NULL,
    actor_type text NOT NULL CHECK (actor_type IN ('user', 'operator', 'system', 'anonymous')),
    actor_id text NOT NULL CHECK (actor_id ~ '^[A-Za-z0-9_.:-]*$'),
    action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]*$'),
    target_type text NOT NULL CHECK (target_type ~ '^[a-z_]*$'),
    target_id text NOT NULL CHECK (target_id ~ '^[A-Za-z0-9_.:-]*$'),
    -- Client address and user agent, sealed under a monthly audit key (see service/audit).
    origin bytea,
    before_hash bytea,
    after_hash bytea,
    -- Canonical JSON written by the service; pseudonymous ids and codes, never personal data.
    details text NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT audit_log_position UNIQUE (chain, seq)
);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_type, actor_id, at);

-- The bytes an entry's hash covers, after the previous entry's hash. `idv audit verify`
-- rebuilds the same text in Python (service/audit/chain.py); change both or neither.
CREATE FUNCTION audit_canonical(e audit_log) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(E'\n',
        e.chain::text, e.seq::text, ((extract(epoch FROM e.at) * 1000000)::bigint)::text,
        e.actor_type, e.actor_id, e.action, e.target_type, e.target_id,
        coalesce(encode(e.origin, 'hex'), '-'),
        coalesce(encode(e.before_hash, 'hex'), '-'),
        coalesce(encode(e.after_hash, 'hex'), '-'),
        e.details)
$$;

-- Takes the first chain head no other transaction holds (starting at a place that depends on
-- the backend, so connections spread out), links the entry to it and moves the head. The
-- head stays locked until commit, which is why callers append audit entries last.
CREATE FUNCTION audit_link() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    head record;
BEGIN
    SELECT h.chain, h.seq, h.hash INTO head FROM audit_chain_heads h
    ORDER BY (h.chain + pg_backend_pid()) % 16, h.chain
    FOR UPDATE SKIP LOCKED LIMIT 1;
    IF NOT FOUND THEN
        -- Every head is held by another transaction: wait for one of them.
        SELECT h.chain, h.seq, h.hash INTO head FROM audit_chain_heads h
        ORDER BY (h.chain + pg_backend_pid()) % 16, h.chain LIMIT 1 FOR UPDATE;
    END IF;
    NEW.chain := head.chain;
    NEW.seq := head.seq + 1;
    NEW.at := clock_timestamp();
    NEW.prev_hash := head.hash;
    NEW.hash := sha256(head.hash || convert_to(audit_canonical(NEW), 'UTF8'));
    UPDATE audit_chain_heads SET seq = NEW.seq, hash = NEW.hash WHERE chain = head.chain;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_link();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER account_state_changes_no_truncate BEFORE TRUNCATE ON account_state_changes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Every account state change is audited by the database itself, so no code path can skip it.
-- account_state_changes.actor is 'self' or '<kind>:<id>' (operator:<uuid>, system:<job>).
CREATE FUNCTION audit_account_state_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE WHEN NEW.actor = 'self' THEN 'user' ELSE split_part(NEW.actor, ':', 1) END;
    who text := CASE WHEN NEW.actor = 'self' THEN NEW.account_id::text
                     ELSE substr(NEW.actor, length(split_part(NEW.actor, ':', 1)) + 2) END;
BEGIN
    INSERT INTO audit_log (chain, seq, at, actor_type, actor_id, action, target_type, target_id,
                           details, prev_hash, hash)
    VALUES (0, 0, now(), kind, who, 'account.state_changed', 'account', NEW.account_id::text,
            json_build_object('event', NEW.event, 'from', NEW.from_state, 'to', NEW.to_state,
                              'reason_code', NEW.reason_code)::text, '', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_state_changes_audited AFTER INSERT ON account_state_changes
    FOR EACH ROW EXECUTE FUNCTION audit_account_state_change();
