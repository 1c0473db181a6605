"""Review cases: one model, one state machine and one queue for every verification type."""
