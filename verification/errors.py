"""The one error validators raise: a stable code and a message safe to show the user."""

from __future__ import annotations


class InvalidValue(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
