"""Settings: typed, from the environment, and strict in production."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import UnionType
from typing import Union, get_args, get_origin, get_type_hints

import msgspec
import msgspec.inspect
import pytest

from service.cli import main
from service.settings import (
    VARIABLES,
    Environment,
    Settings,
    SettingsError,
    Workload,
    load_settings,
    markdown_table,
    parse_duration,
)
from tests.arrange.settings import PRODUCTION
from tests.conftest import BLIND_INDEX_KEY, environment_for_tests

README = Path(__file__).resolve().parents[1] / "README.md"


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
        ({"IDV_WEBAUTHN_ORIGINS": ""}, "IDV_WEBAUTHN_ORIGINS that are not https"),
        ({"IDV_WEBAUTHN_ORIGINS": "https://app.example.com,http://app.example.com"}, "not https"),
        ({"IDV_WEBAUTHN_ORIGINS": "https://app.example.com/sign-in"}, "no path"),
        ({"IDV_SESSION_TOKEN_LIFETIME": "10m"}, "IDV_SESSION_TOKEN_LIFETIME above 5m"),
    ],
)
def test_production_refuses_development_adapters_and_missing_keys(
    tmp_path: Path, change: dict[str, str], complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint):
        load_settings({**PRODUCTION, "IDV_STATE_DIR": str(tmp_path), **change})


def test_production_api_starts_without_the_courier_secrets_and_cannot_deliver(tmp_path: Path) -> None:
    from service.courier.adapters import DeliveryFailed, NotDelivering
    from service.runtime import couriers

    api = {**PRODUCTION, "IDV_STATE_DIR": str(tmp_path), "IDV_SMTP_URL": "", "IDV_SMS_GATEWAY_TOKEN": ""}
    settings = load_settings(api, Workload.SERVICE)
    email, sms = couriers(settings)
    # Never the development file outbox in their place: a delivery tried here fails and is retried.
    assert isinstance(email, NotDelivering) and isinstance(sms, NotDelivering)
    with pytest.raises(DeliveryFailed, match="IDV_SMTP_URL"):
        asyncio.run(email.send_email("bruce@example.com", "subject", "body"))


def test_production_worker_refuses_to_start_without_the_courier_secrets(tmp_path: Path) -> None:
    worker = {**PRODUCTION, "IDV_STATE_DIR": str(tmp_path), "IDV_SMTP_URL": "", "IDV_SMS_GATEWAY_TOKEN": ""}
    with pytest.raises(SettingsError) as caught:
        load_settings(worker, Workload.SERVICE | Workload.DELIVERY)
    assert "IDV_SMTP_URL to deliver e-mail" in str(caught.value)
    assert "IDV_SMS_GATEWAY_TOKEN to deliver SMS" in str(caught.value)
    settings = load_settings({**worker, "IDV_SMTP_URL": PRODUCTION["IDV_SMTP_URL"], "IDV_SMS_GATEWAY_TOKEN": "t"})
    assert settings.sms_gateway_token == "t"


def test_migrations_need_only_the_owners_url(tmp_path: Path) -> None:
    secrets = {"DATABASE_URL", "IDV_MASTER_KEYS", "IDV_BLIND_INDEX_KEY", "IDV_SMTP_URL", "IDV_REAL_NAME_SECRET"}
    config = {name: value for name, value in PRODUCTION.items() if name not in secrets | {"IDV_REDIS_URL"}}
    owner = {**config, "IDV_STATE_DIR": str(tmp_path), "IDV_MIGRATIONS_DATABASE_URL": "postgresql://owner@db/idv"}
    settings = load_settings(owner, Workload.MIGRATIONS)
    assert settings.master_keys == () and settings.real_name_secret is None
    with pytest.raises(SettingsError, match="IDV_MIGRATIONS_DATABASE_URL"):
        load_settings({**owner, "IDV_MIGRATIONS_DATABASE_URL": ""}, Workload.MIGRATIONS)
    with pytest.raises(SettingsError, match="IDV_MASTER_KEYS is required"):
        load_settings(owner, Workload.SERVICE)
    # Development generates no keys for a migration either.
    load_settings({"IDV_STATE_DIR": str(tmp_path / "dev")}, Workload.MIGRATIONS)
    assert not (tmp_path / "dev" / "development-keys.json").exists()


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
    assert parse_duration("3y") == timedelta(days=1095)  # a year is 365 days, as the defaults count
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("1 week")


def test_the_api_refuses_limits_counted_per_replica_unless_told(tmp_path: Path) -> None:
    from service.http.rate_limits import unshared_limits_problem

    alone = {**PRODUCTION, "IDV_STATE_DIR": str(tmp_path), "IDV_REDIS_URL": ""}
    problem = unshared_limits_problem(load_settings(alone))
    assert problem is not None and "IDV_REDIS_URL" in problem
    assert unshared_limits_problem(load_settings({**alone, "IDV_RATE_LIMITS_PER_REPLICA": "true"})) is None
    off = {
        "IDV_RATE_REGISTRATIONS_PER_HOUR": "0",
        "IDV_RATE_SIGN_INS_PER_MINUTE": "0",
        "IDV_RATE_CODES_PER_MINUTE": "0",
        "IDV_RATE_UPLOADS_PER_MINUTE": "0",
    }
    assert unshared_limits_problem(load_settings({**alone, **off})) is None
    assert unshared_limits_problem(load_settings({**PRODUCTION, "IDV_STATE_DIR": str(tmp_path)})) is None
    # `idv serve` says so and exits before opening anything.
    run = subprocess.run(
        [sys.executable, "-m", "service", "serve"],
        env={**os.environ, **alone},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2 and "IDV_RATE_LIMITS_PER_REPLICA" in run.stderr


def test_the_shared_store_is_redis_when_configured(tmp_path: Path) -> None:
    from litestar.stores.redis import RedisStore

    from service.http.rate_limits import rate_limit_store

    settings = load_settings({**PRODUCTION, "IDV_STATE_DIR": str(tmp_path)})
    # The client is built, not connected: the image carries the redis package (a dependency, not an extra).
    assert isinstance(rate_limit_store(settings), RedisStore)


async def test_the_pool_size_is_a_setting(tmp_path: Path, database_url: str) -> None:
    from service.runtime import Runtime

    settings = load_settings(environment_for_tests(tmp_path, IDV_DB_POOL_SIZE="3"))
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        assert runtime.database.pool.get_max_size() == 3
    with pytest.raises(SettingsError, match="IDV_DB_POOL_SIZE"):
        load_settings(environment_for_tests(tmp_path, IDV_DB_POOL_SIZE="1"))


def test_one_image_may_not_need_more_memory_than_all_decodes_together(tmp_path: Path) -> None:
    settings = load_settings(environment_for_tests(tmp_path))
    assert (settings.upload_max_decoded_bytes, settings.decode_memory_budget_mib) == (256 * 1024 * 1024, 256)
    larger = {"IDV_UPLOAD_MAX_DECODED_BYTES": str(300 * 1024 * 1024)}
    with pytest.raises(SettingsError, match="must not exceed IDV_DECODE_MEMORY_BUDGET_MIB"):
        load_settings(environment_for_tests(tmp_path, **larger))
    raised = load_settings(environment_for_tests(tmp_path, **larger, IDV_DECODE_MEMORY_BUDGET_MIB="512"))
    assert raised.upload_max_decoded_bytes == 300 * 1024 * 1024


def test_face_attempt_bounds_and_review_policy(tmp_path: Path) -> None:
    settings = load_settings(environment_for_tests(tmp_path))
    assert (settings.face_challenges_per_day, settings.face_failures_in_a_row) == (5, 3)
    assert settings.face_verify_without_review == "margin"
    with pytest.raises(SettingsError, match="IDV_FACE_VERIFY_WITHOUT_REVIEW"):
        load_settings(environment_for_tests(tmp_path, IDV_FACE_VERIFY_WITHOUT_REVIEW="always"))
    with pytest.raises(SettingsError, match="IDV_FACE_CHALLENGES_PER_DAY"):
        load_settings(environment_for_tests(tmp_path, IDV_FACE_CHALLENGES_PER_DAY="0"))


def test_a_blind_index_rotation_needs_a_new_key_and_backups_set_when_master_keys_may_go(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="IDV_BLIND_INDEX_KEY_PREVIOUS is IDV_BLIND_INDEX_KEY"):
        load_settings(environment_for_tests(tmp_path, IDV_BLIND_INDEX_KEY_PREVIOUS=BLIND_INDEX_KEY))
    settings = load_settings(environment_for_tests(tmp_path, IDV_BACKUP_RETENTION="35d"))
    assert settings.blind_index_key_previous is None
    assert (settings.backup_retention, settings.master_key_max_age) == (timedelta(days=35), timedelta(days=90))


def test_the_readmes_table_is_the_one_generated_from_the_declarations(capsys: pytest.CaptureFixture[str]) -> None:
    text = README.read_text()
    start = text.index("<!-- settings table: generated by `idv settings --markdown`")
    start = text.index("\n", start) + 1
    in_readme = text[start : text.index("<!-- end of the settings table -->")]
    # A variable added without updating the README (or a README edited by hand) fails here:
    # `idv settings --markdown` prints the table to paste.
    assert in_readme == markdown_table()
    assert main(["settings", "--markdown"]) == 0
    assert capsys.readouterr().out == markdown_table()


def test_every_variable_is_documented_and_its_default_parses() -> None:
    for variable in VARIABLES.values():
        assert variable.doc and variable.group, variable.name
        assert "|" not in variable.doc, variable.name
        if variable.default is not None:
            variable.parse(variable.name, variable.default)
        assert variable.name.startswith("IDV_") or variable.name == "DATABASE_URL"
    # msgspec reads the annotated fields too (litestar hands Settings to handlers): they must evaluate.
    assert len(msgspec.inspect.type_info(Settings).fields) == len(msgspec.structs.fields(Settings))


def _is_of_type(value: object, hint: object) -> bool:
    if get_origin(hint) in {Union, UnionType}:
        return any(_is_of_type(value, option) for option in get_args(hint))
    if hint is type(None):
        return value is None
    return isinstance(value, get_origin(hint) or hint)  # type: ignore[arg-type]


@pytest.mark.parametrize("environment", ["development", "production"])
def test_each_declaration_gives_its_field_the_fields_type(tmp_path: Path, environment: str) -> None:
    # mypy does not read what Annotated carries: a parser returning the wrong type is caught here.
    if environment == "production":
        everything_set = {"IDV_PG_PORT": "5433", "IDV_COOKIE_DOMAIN": "example.com", "IDV_SMS_GATEWAY_TOKEN": "t"}
        settings = load_settings({**PRODUCTION, **everything_set, "IDV_STATE_DIR": str(tmp_path)})
    else:
        settings = load_settings({"IDV_STATE_DIR": str(tmp_path)})
    for name, hint in get_type_hints(Settings).items():
        assert _is_of_type(getattr(settings, name), hint), (name, getattr(settings, name))


def test_a_refused_value_is_reported_and_its_default_stands_in(tmp_path: Path) -> None:
    # Every problem is listed at once: the other checks still see a value of the right type.
    with pytest.raises(SettingsError) as caught:
        load_settings(
            environment_for_tests(tmp_path, IDV_SESSION_IDLE_TIMEOUT="soon", IDV_OPERATOR_SESSION_IDLE_TIMEOUT="1y")
        )
    assert "IDV_SESSION_IDLE_TIMEOUT: not a duration" in str(caught.value)
    assert "operator sessions must not outlive users'" in str(caught.value)
