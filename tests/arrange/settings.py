"""Environments for settings: the least a production deployment must set."""

from __future__ import annotations

from tests.conftest import BLIND_INDEX_KEY, MASTER_KEY

PRODUCTION = {
    "IDV_ENV": "production",
    "DATABASE_URL": "postgresql://idv@db/idv",
    "IDV_MASTER_KEYS": f"2026-11:{MASTER_KEY}",
    "IDV_BLIND_INDEX_KEY": BLIND_INDEX_KEY,
    "IDV_COURIER_EMAIL": "smtp",
    "IDV_SMTP_URL": "smtps://mailer:secret@smtp.example.com:465",
    "IDV_COURIER_SMS": "http",
    "IDV_SMS_GATEWAY_URL": "https://sms.example.com/v1/messages",
    "IDV_REAL_NAME_PROVIDER": "http",
    "IDV_REAL_NAME_URL": "https://registry.example.com/verify",
    "IDV_REAL_NAME_KEY_ID": "idv-prod",
    "IDV_REAL_NAME_SECRET": BLIND_INDEX_KEY,
    "IDV_REDIS_URL": "redis://:secret@idv-valkey:6379/0",
    "IDV_WEBAUTHN_RP_ID": "example.com",
    "IDV_WEBAUTHN_ORIGINS": "https://app.example.com",
}
