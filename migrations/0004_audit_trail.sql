-- The audit trail: append-only and hash-chained. Entries are spread over a fixed set of
-- chains, each a hash chain of its own, so concurrent writers take different chains instead
-- of queueing behind one. A trigger links each entry; nothing the service sends can choose its
-- position, time or hash.

-- Each chain starts from a hash anyone can recompute: sha256('idv audit chain <n>').
CREATE TABLE audit_chains (
    chain smallint PRIMARY KEY,
    genesis bytea NOT NULL
);
INSERT INTO audit_chains (chain, genesis)
SELECT c, sha256(convert_to('idv audit chain ' || c, 'UTF8')) FROM generate_series(0, 15) AS c;

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
LANGUAGE sql STABLE AS $$
    SELECT concat_ws(E'\n',
        e.chain::text, e.seq::text, ((extract(epoch FROM e.at) * 1000000)::bigint)::text,
        e.actor_type, e.actor_id, e.action, e.target_type, e.target_id,
        coalesce(encode(e.origin, 'hex'), '-'),
        coalesce(encode(e.before_hash, 'hex'), '-'),
        coalesce(encode(e.after_hash, 'hex'), '-'),
        e.details)
$$;

-- Takes the first chain no other transaction holds, trying them from a point that depends on
-- the backend so connections spread out, and links the entry to the chain's last entry (found
-- through the (chain, seq) index). Chains are held with transaction-level advisory locks
-- (shared memory, no row to update) until commit, which is why callers append audit entries
-- last. Should a stale snapshot ever miss the last entry, the unique (chain, seq) constraint
-- fails the insert rather than fork the chain.
CREATE FUNCTION audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_link();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- What `idv audit verify` found at the end of each chain when it last passed. A later run that
-- finds a chain shorter than its checkpoint, or a different hash at that position, reports
-- entries removed from the end, which the chain alone cannot show.
CREATE TABLE audit_checkpoints (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain smallint NOT NULL REFERENCES audit_chains (chain),
    seq bigint NOT NULL,
    hash bytea NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_checkpoints_chain_idx ON audit_checkpoints (chain, id);
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
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
    INSERT INTO public.audit_log (chain, seq, at, actor_type, actor_id, action, target_type, target_id,
                           details, prev_hash, hash)
    VALUES (0, 0, now(), kind, who, 'account.state_changed', 'account', NEW.account_id::text,
            json_build_object('event', NEW.event, 'from', NEW.from_state, 'to', NEW.to_state,
                              'reason_code', NEW.reason_code)::text, '', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_state_changes_audited AFTER INSERT ON account_state_changes
    FOR EACH ROW EXECUTE FUNCTION audit_account_state_change();
