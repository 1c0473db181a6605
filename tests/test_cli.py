"""The `idv` command end to end: a fresh state directory, the embedded database, a real server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.database.embedded import free_port
from service.database.roles import APPEND_ONLY_TABLES, writable_append_only_tables
from tests.conftest import environment_for_tests, traversable_tmpdir
from tests.helpers import STRONG_PASSWORD, bearer, registration

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    root = traversable_tmpdir("idv-cli-")
    yield root / "state"
    shutil.rmtree(root, ignore_errors=True)


def idv(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "service", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_ready(base: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the service never became ready")


@pytest.mark.slow
def test_serve_with_embedded_database_registers_delivers_and_stops_cleanly(state_dir: Path) -> None:
    port = free_port()
    env = {**os.environ, "IDV_STATE_DIR": str(state_dir), "IDV_COOKIE_SECURE": "false"}
    env.pop("DATABASE_URL", None)
    server = idv("serve", "--port", str(port), "--with-worker", env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        response = httpx.post(f"{base}/v1/registrations", json=registration(phone=None))
        assert response.status_code == 201, response.text
        token = response.json()["session"]["token"]

        outbox = state_dir / "outbox.jsonl"
        deadline = time.monotonic() + 30
        while not outbox.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        code = re.search(r"\b(\d{6})\b", json.loads(outbox.read_text().splitlines()[-1])["body"])
        assert code, "the worker delivered no code"
        verified = httpx.post(f"{base}/v1/contacts/email/verify", json={"code": code.group(1)}, headers=bearer(token))
        assert verified.json()["account_state"] == "active"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode in (0, 128 + signal.SIGTERM), output
    assert "embedded postgresql stopped" in output
    assert not (state_dir / "pg" / "data" / "postmaster.pid").exists()
    for secret in ("bruce@example.com", token):
        assert secret not in output


def test_hashers_calibrate_prints_parameters() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "service",
            "hashers",
            "calibrate",
            "--target-ms",
            "5",
            "--rounds",
            "1",
            "--memory-kib",
            "4096",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    values = dict(line.split("=") for line in result.stdout.splitlines() if "=" in line and not line.startswith("#"))
    assert values["IDV_ARGON2_MEMORY_KIB"] == "4096"
    assert int(values["IDV_ARGON2_TIME_COST"]) >= 1


def test_migrate_against_database_url(empty_database_url: str, state_dir: Path) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database_url, "IDV_STATE_DIR": str(state_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "service", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "migrations applied" in result.stdout


# What the production ConfigMap says (k8s/overlays/prod), without a secret.
PRODUCTION_CONFIG = {
    "IDV_ENV": "production",
    "IDV_COURIER_EMAIL": "smtp",
    "IDV_COURIER_SMS": "http",
    "IDV_SMS_GATEWAY_URL": "https://sms.example.com/v1/messages",
    "IDV_REAL_NAME_PROVIDER": "http",
    "IDV_REAL_NAME_URL": "https://registry.example.com/v1/verifications",
    "IDV_REAL_NAME_KEY_ID": "idv-production-1",
}


def without_idv_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("IDV_") and k != "DATABASE_URL"}


async def _tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()


def test_migrate_in_production_with_only_the_owners_url(empty_database_url: str, state_dir: Path) -> None:
    env = {
        **without_idv_settings(),
        **PRODUCTION_CONFIG,
        "IDV_STATE_DIR": str(state_dir),
        "IDV_MIGRATIONS_DATABASE_URL": empty_database_url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "service", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "migrations applied" in result.stdout
    assert {"schema_migrations", "accounts", "audit_log", "pgqueuer"} <= asyncio.run(_tables(empty_database_url))
    again = subprocess.run(
        [sys.executable, "-m", "service", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0 and "(0 new)" in again.stdout, again.stdout + again.stderr


def test_production_worker_without_courier_secrets_refuses_to_start(state_dir: Path) -> None:
    env = {
        **without_idv_settings(),
        **environment_for_tests(state_dir),
        **PRODUCTION_CONFIG,
        "DATABASE_URL": "postgresql://x@127.0.0.1:1/x",
        "IDV_REAL_NAME_SECRET": "c2VjcmV0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "service", "worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "IDV_COURIER_EMAIL=smtp needs IDV_SMTP_URL to deliver e-mail (`idv worker`)" in result.stderr
    assert "IDV_SMS_GATEWAY_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_each_command_is_checked_as_its_workload() -> None:
    from service.cli import workload_of
    from service.settings import Workload

    assert workload_of(["migrate"]) is Workload.MIGRATIONS
    assert workload_of(["serve", "--graceful-seconds", "25"]) is Workload.SERVICE
    assert workload_of(["serve", "--with-worker"]) == Workload.SERVICE | Workload.DELIVERY
    assert workload_of(["worker"]) == Workload.SERVICE | Workload.DELIVERY
    assert workload_of(["operators", "create", "--email", "a@example.com", "--role", "admin"]) is Workload.SERVICE
    # The monthly archive CronJob is given the owner's URL and nothing else (k8s/base/audit-archive-cronjob.yaml).
    assert workload_of(["audit", "archive", "--due", "--out", "/archives"]) is Workload.MIGRATIONS
    assert workload_of(["audit", "verify-archive", "/archives", "--database"]) is Workload.MIGRATIONS
    assert workload_of(["audit", "verify"]) is Workload.SERVICE


def test_production_refuses_to_start_with_development_adapters(state_dir: Path) -> None:
    env = {
        **os.environ,
        "IDV_ENV": "production",
        "DATABASE_URL": "postgresql://x@127.0.0.1:1/x",
        "IDV_STATE_DIR": str(state_dir),
    }
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "IDV_COURIER_EMAIL=file is a development adapter" in result.stderr
    assert "IDV_MASTER_KEYS is required" in result.stderr
    assert "Traceback" not in result.stderr


async def test_operators_create_prints_a_code_that_enrols(
    client: httpx.AsyncClient, database_url: str, owner_database_url: str, state_dir: Path
) -> None:
    env = {
        **os.environ,
        **environment_for_tests(state_dir),
        "DATABASE_URL": database_url,
        "IDV_MIGRATIONS_DATABASE_URL": owner_database_url,
    }
    command = [sys.executable, "-m", "service", "operators", "create", "--email", "first.admin@example.com"]
    result = await asyncio.to_thread(
        subprocess.run,
        [*command, "--role", "admin", "--role", "privacy_officer"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    code = result.stdout.splitlines()[2].strip()
    response = await client.post("/v1/operator/enrolment", json={"enrolment_code": code, "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert "first.admin%40example.com" in response.json()["otpauth_uri"]

    again = await asyncio.to_thread(
        subprocess.run, [*command, "--role", "reviewer"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 1 and "exists" in again.stderr


async def test_only_the_owner_could_rewrite_append_only_tables(
    db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    assert await writable_append_only_tables(db) == []
    assert sorted(await writable_append_only_tables(owner_db)) == sorted(APPEND_ONLY_TABLES)


def test_retention_report_prints_each_category(database_url: str, state_dir: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "IDV_STATE_DIR": str(state_dir), "IDV_RETENTION": "sessions=7d"}
    result = subprocess.run(
        [sys.executable, "-m", "service", "retention", "report"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if "purge now" in line}
    assert set(lines) == {
        "sessions",
        "one_time_codes",
        "outbox_messages",
        "sign_in_throttle",
        "closed_case_evidence",
        "legal_hold",
        "audit_origins",
        "terminated_accounts",
        "guardian_invitations",
        "face_images",
        "documents",
        "exports",
        "guardian_window",
        "unverified_accounts",
        "identity_bars",
    }
    assert "keep 7 days" in lines["sessions"]


def test_vault_status_names_each_master_key_and_the_blind_index_rotation(database_url: str, state_dir: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "IDV_STATE_DIR": str(state_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "service", "vault", "status"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no: the active key" in result.stdout
    assert "blind-index key: one key, no rotation under way" in result.stdout
