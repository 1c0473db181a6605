"""The retention schedule: periods from configuration, a report of what is due, a purge that
removes exactly that."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.lifecycle.retention import BY_NAME, purge, report
from service.runtime import Runtime
from service.settings import RETENTION_CATEGORIES, SettingsError, load_settings
from tests.conftest import environment_for_tests
from tests.helpers import bearer, register


def test_settings_name_every_category_and_refuse_unknown_ones(tmp_path: Path) -> None:
    assert frozenset(BY_NAME) == RETENTION_CATEGORIES
    settings = load_settings(environment_for_tests(tmp_path, IDV_RETENTION="sessions=30d, one_time_codes=2h"))
    assert settings.retention == {"sessions": timedelta(days=30), "one_time_codes": timedelta(hours=2)}
    in_years = load_settings(environment_for_tests(tmp_path, IDV_RETENTION="legal_hold=5y,closed_case_evidence=3y"))
    assert in_years.retention == {"legal_hold": timedelta(days=5 * 365), "closed_case_evidence": timedelta(days=1095)}
    with pytest.raises(SettingsError, match="not a duration"):
        load_settings(environment_for_tests(tmp_path, IDV_RETENTION="legal_hold=3 years"))
    with pytest.raises(SettingsError, match="unknown category 'selfies'"):
        load_settings(environment_for_tests(tmp_path, IDV_RETENTION="selfies=1d"))


async def test_old_sessions_and_codes_are_purged_and_live_ones_kept(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    body = await register(client)
    me = bearer(body["session"]["token"])
    old = await register(client, email="old@example.com", username="old_one", phone=None)
    await client.delete("/v1/sessions/current", headers=bearer(old["session"]["token"]))
    await db.execute("UPDATE sessions SET ended_at = now() - interval '91 days' WHERE ended_at IS NOT NULL")
    await db.execute("UPDATE one_time_codes SET expires_at = now() - interval '2 days'")

    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["sessions"] == 1 and due["one_time_codes"] == 3  # e-mail and SMS, and the old one's e-mail
    purged = await purge(runtime)
    assert (purged["sessions"], purged["one_time_codes"]) == (1, 3)
    assert (await client.get("/v1/sessions/whoami", headers=me)).status_code == 200
    assert all(line.due_now == 0 for line in await report(db, runtime.settings.retention))
