"""The consent ledger: what each person agreed to, append-only."""
