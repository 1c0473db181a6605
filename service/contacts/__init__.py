"""Contacts (e-mail, mobile) and proof of their ownership with one-time codes."""
