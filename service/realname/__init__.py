"""Real-name verification: a legal name and ID number checked against an authoritative registry."""
