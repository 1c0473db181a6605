-- The console's sessions apart from the API's (issue 20): each operator session belongs to the
-- channel it was signed in through, and only that channel accepts it (service.operators.auth), so a
-- console cookie's token is no bearer token and an API token opens no console. Sessions alive when
-- this runs count as the API's (a console signed in before it asks to sign in again).
ALTER TABLE operator_sessions
    ADD COLUMN channel text NOT NULL DEFAULT 'api' CHECK (channel IN ('api', 'console'));

-- A console's passkey sign-in challenge is bound to the sign-in page that asked for it: the sha256
-- of that page's pre-session token (its cookie). The API's are bound to nothing but their flow id.
ALTER TABLE operator_passkey_challenges
    ADD COLUMN pre_session_digest bytea
        CHECK (pre_session_digest IS NULL OR (purpose = 'sign_in' AND octet_length(pre_session_digest) = 32));
