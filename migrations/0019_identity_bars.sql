-- An identity barred after its account was terminated for false information: only the keyed
-- blind index of the ID number, only until the bar ends (then the retention job deletes it).
CREATE TABLE identity_bars (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_number_index bytea NOT NULL,
    case_id uuid NOT NULL REFERENCES review_cases (id),
    barred_until timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_bars_index_idx ON identity_bars (id_number_index, barred_until);
