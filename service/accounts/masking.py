"""Masked forms of personal values, for screens that confirm rather than reveal."""

from __future__ import annotations


def mask_email(email: str) -> str:
    local, _, domain = email.rpartition("@")
    shown = local[:1] if len(local) <= 3 else local[:2]
    return f"{shown}{'*' * max(3, len(local) - len(shown))}@{domain}"


def mask_phone(e164: str) -> str:
    if len(e164) <= 7:
        return e164[:2] + "*" * (len(e164) - 2)
    return e164[: len(e164) - 8] + "****" + e164[-4:]


def mask_birth_date(iso_date: str) -> str:
    return iso_date[:4] + "-**-**"
