-- Review cases: one model for every kind of verification an operator may have to decide.

CREATE TABLE review_cases (
    id uuid PRIMARY KEY,
    case_type text NOT NULL,
    subject_account_id uuid NOT NULL REFERENCES accounts (id),
    state text NOT NULL,
    priority smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 4),
    due_at timestamptz NOT NULL,
    assignee_id uuid REFERENCES operators (id),
    subject_is_child boolean NOT NULL DEFAULT false,
    parent_case_id uuid REFERENCES review_cases (id),
    -- For an appeal: the type of the case appealed, whose roles also work the appeal.
    appealed_case_type text,
    -- Operators who may not decide this case (an appeal is never judged by the first decider).
    excluded_operator_ids uuid[] NOT NULL DEFAULT '{}',
    resubmissions integer NOT NULL DEFAULT 0,
    evidence_version integer NOT NULL DEFAULT 1,
    -- Scores, thresholds, model or provider versions and reason codes; no personal data.
    automated_results jsonb NOT NULL DEFAULT '[]',
    reason_code text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz
);
CREATE INDEX review_cases_queue_idx ON review_cases (state, due_at) WHERE closed_at IS NULL;
CREATE INDEX review_cases_subject_idx ON review_cases (subject_account_id, created_at);
CREATE UNIQUE INDEX review_cases_one_appeal_idx ON review_cases (parent_case_id)
    WHERE case_type = 'appeal';

-- What the case is about, sealed under the subject's data key; operators see `masked` unless
-- they reveal the value with a reason (audited).
CREATE TABLE review_case_evidence (
    case_id uuid NOT NULL REFERENCES review_cases (id),
    name text NOT NULL,
    value bytea NOT NULL,
    masked text NOT NULL,
    version integer NOT NULL,
    PRIMARY KEY (case_id, name)
);

-- The decision history. Append-only.
CREATE TABLE review_case_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES review_cases (id),
    from_state text,
    to_state text NOT NULL,
    event text NOT NULL,
    actor_type text NOT NULL,
    actor_id text NOT NULL,
    reason_code text,
    -- The operator's or user's note, sealed under the subject's data key.
    note bytea,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_case_events_case_idx ON review_case_events (case_id, id);
CREATE TRIGGER review_case_events_append_only BEFORE UPDATE OR DELETE ON review_case_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER review_case_events_no_truncate BEFORE TRUNCATE ON review_case_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Four eyes: a decision staged by one operator, in force only once another confirms it.
CREATE TABLE staged_decisions (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES review_cases (id),
    decision text NOT NULL,
    reason_code text NOT NULL,
    note bytea,
    staged_by uuid NOT NULL REFERENCES operators (id),
    evidence_version integer NOT NULL,
    staged_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'sent_back', 'cancelled')),
    resolved_by text,
    resolved_at timestamptz,
    CONSTRAINT staged_decisions_resolution CHECK ((status = 'pending') = (resolved_at IS NULL))
);
CREATE UNIQUE INDEX staged_decisions_one_pending_idx ON staged_decisions (case_id) WHERE status = 'pending';

-- Every case state change is audited by the database itself.
CREATE FUNCTION audit_case_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.audit_log (chain, seq, at, actor_type, actor_id, action, target_type, target_id,
                           details, prev_hash, hash)
    VALUES (0, 0, now(), NEW.actor_type, NEW.actor_id, 'case.state_changed', 'case', NEW.case_id::text,
            json_build_object('event', NEW.event, 'from', NEW.from_state, 'to', NEW.to_state,
                              'reason_code', NEW.reason_code)::text, '', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER review_case_events_audited AFTER INSERT ON review_case_events
    FOR EACH ROW EXECUTE FUNCTION audit_case_event();
