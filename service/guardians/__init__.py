"""Minors and their guardians: invitations, verifiable consent, and the review for children."""
