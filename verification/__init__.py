"""Validation and proofing of the information people give us: pure, synchronous, testable alone."""
