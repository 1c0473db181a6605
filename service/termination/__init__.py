"""Ending an account for good, by two operators, with a bar on the identity it used."""
