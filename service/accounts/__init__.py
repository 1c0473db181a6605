"""Accounts: registration, profile, and the account state machine."""
