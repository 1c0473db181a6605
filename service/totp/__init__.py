"""TOTP second factor (RFC 6238) and one-time recovery codes."""
