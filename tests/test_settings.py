"""Settings: typed, from the environment, and strict in production."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from service.settings import Environment, SettingsError, load_settings, parse_duration
from tests.conftest import BLIND_INDEX_KEY, MASTER_KEY, environment_for_tests

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
}


def test_production_with_real_adapters_starts(tmp_path: Path) -> None:
    settings = load_settings({**PRODUCTION, "IDV_STATE_DIR": str(tmp_path)})
    assert settings.env is Environment.PRODUCTION
    assert settings.active_master_key_id == "2026-11"
    assert not (tmp_path / "development-keys.json").exists()


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"IDV_COURIER_EMAIL": "file"}, "IDV_COURIER_EMAIL=file is a development adapter"),
        ({"IDV_COURIER_SMS": "file"}, "IDV_COURIER_SMS=file is a development adapter"),
        ({"IDV_REAL_NAME_PROVIDER": "sandbox"}, "IDV_REAL_NAME_PROVIDER=sandbox is a development adapter"),
        ({"IDV_REAL_NAME_SECRET": ""}, "IDV_REAL_NAME_PROVIDER=http needs"),
        ({"IDV_MASTER_KEYS": ""}, "IDV_MASTER_KEYS is required"),
        ({"IDV_BLIND_INDEX_KEY": ""}, "IDV_BLIND_INDEX_KEY"),
        ({"DATABASE_URL": ""}, "production needs DATABASE_URL"),
        ({"IDV_ARGON2_MEMORY_KIB": "4096"}, "below 19 MiB"),
        ({"IDV_COOKIE_SECURE": "false"}, "IDV_COOKIE_SECURE"),
        ({"IDV_MASTER_KEYS": "k1:c2hvcnQ="}, "must decode to 32 bytes"),
        ({"IDV_SMTP_URL": "smtp://u:p@smtp.example.com:25?starttls=false"}, "without TLS"),
    ],
)
def test_production_refuses_development_adapters_and_missing_keys(
    tmp_path: Path, change: dict[str, str], complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint):
        load_settings({**PRODUCTION, "IDV_STATE_DIR": str(tmp_path), **change})


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({**PRODUCTION, "IDV_STATE_DIR": str(tmp_path), "IDV_PORT": "x", "IDV_COURIER_SMS": "file"})
    assert "IDV_PORT" in str(caught.value) and "IDV_COURIER_SMS" in str(caught.value)


def test_development_generates_keys_once_and_keeps_them(tmp_path: Path) -> None:
    first = load_settings({"IDV_STATE_DIR": str(tmp_path)})
    second = load_settings({"IDV_STATE_DIR": str(tmp_path)})
    assert first.env is Environment.DEVELOPMENT
    assert first.master_keys == second.master_keys
    assert (tmp_path / "development-keys.json").stat().st_mode & 0o777 == 0o600


def test_active_master_key_must_be_in_the_ring(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not in IDV_MASTER_KEYS"):
        load_settings(environment_for_tests(tmp_path, IDV_ACTIVE_MASTER_KEY="other"))


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("30") == timedelta(seconds=30)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("1 week")


def test_face_attempt_bounds_and_review_policy(tmp_path: Path) -> None:
    settings = load_settings(environment_for_tests(tmp_path))
    assert (settings.face_challenges_per_day, settings.face_failures_in_a_row) == (5, 3)
    assert settings.face_verify_without_review == "margin"
    with pytest.raises(SettingsError, match="IDV_FACE_VERIFY_WITHOUT_REVIEW"):
        load_settings(environment_for_tests(tmp_path, IDV_FACE_VERIFY_WITHOUT_REVIEW="always"))
    with pytest.raises(SettingsError, match="IDV_FACE_CHALLENGES_PER_DAY"):
        load_settings(environment_for_tests(tmp_path, IDV_FACE_CHALLENGES_PER_DAY="0"))
