"""Passkeys: WebAuthn credentials for sign-in and as a second factor (issue 21)."""
