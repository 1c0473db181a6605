-- The keys that sign short-lived session tokens for gateways that verify locally (service/tokens,
-- issue 23): Ed25519 key pairs the service makes itself, shared by every replica. A key is
-- published in /.well-known/jwks.json from created_at, signs from signs_from (a pre-publication
-- period later, so that gateways caching the key set have it before the first token it signs),
-- and stays published until every token it signed has expired; then it is retired: its private
-- key is cleared and the data key that sealed it destroyed. Retired rows stay as the record.
CREATE TABLE session_signing_keys (
    -- Also the vault owner whose data key seals the private key (vault field tokens.signing_key).
    id uuid PRIMARY KEY,
    -- The JWK thumbprint of the public key (RFC 7638), the tokens' `kid`.
    kid text NOT NULL UNIQUE,
    public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),
    -- The 32-byte private key sealed; NULL once retired.
    private_key bytea,
    created_at timestamptz NOT NULL,
    signs_from timestamptz NOT NULL CHECK (signs_from >= created_at),
    retired_at timestamptz,
    CHECK ((retired_at IS NULL) = (private_key IS NOT NULL))
);
