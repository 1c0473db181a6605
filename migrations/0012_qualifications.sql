-- Documents people upload as evidence, sealed under their key. They are screened before they
-- get here (type by magic bytes, pixel limits, images re-encoded without metadata); ``content``
-- becomes NULL when the document is no longer needed.
CREATE TABLE documents (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    kind text NOT NULL CHECK (kind IN ('jpeg', 'png', 'pdf')),
    content bytea,
    byte_size integer NOT NULL,
    width integer,
    height integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CHECK ((content IS NULL) = (deleted_at IS NOT NULL))
);
CREATE INDEX documents_account_idx ON documents (account_id);

-- What an operator may open while working a case.
CREATE TABLE case_documents (
    case_id uuid NOT NULL REFERENCES review_cases (id),
    document_id uuid NOT NULL REFERENCES documents (id),
    PRIMARY KEY (case_id, document_id)
);

-- Qualification certifications: where someone works and as what, proven by a work e-mail and
-- documents, decided by an operator, valid until the date the documents show.
CREATE TABLE qualifications (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id),
    case_id uuid UNIQUE REFERENCES review_cases (id),
    status text NOT NULL
        CHECK (status IN ('draft', 'submitted', 'approved', 'rejected', 'withdrawn', 'expired', 'revoked')),
    organization_name bytea NOT NULL,
    credit_code bytea NOT NULL,
    job_title bytea NOT NULL,
    work_email bytea NOT NULL,
    work_email_verified_at timestamptz,
    valid_until date NOT NULL,
    decided_at timestamptz,
    end_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- One qualification being prepared or reviewed at a time.
CREATE UNIQUE INDEX qualifications_one_open_idx ON qualifications (account_id) WHERE status IN ('draft', 'submitted');
CREATE INDEX qualifications_in_force_idx ON qualifications (valid_until) WHERE status = 'approved';
CREATE INDEX qualifications_account_idx ON qualifications (account_id, created_at);

CREATE TABLE qualification_documents (
    qualification_id uuid NOT NULL REFERENCES qualifications (id),
    document_id uuid NOT NULL REFERENCES documents (id),
    PRIMARY KEY (qualification_id, document_id)
);
