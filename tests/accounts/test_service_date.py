""" "Today" is the service's date (IDV_TIME_ZONE) wherever a date is judged, never UTC's: registration
checked its birth date against UTC's date and decided the age band on the service's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from service.settings import Settings, load_settings
from tests.conftest import environment_for_tests
from tests.helpers import registration


def _zone_on_another_day() -> str:
    # At any moment one of the two extreme zones is on another date than UTC: UTC+14 from 10:00
    # UTC to midnight, UTC-12 from midnight to 12:00 UTC.
    return "Etc/GMT-14" if datetime.now(UTC).hour >= 12 else "Etc/GMT+12"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environment_for_tests(tmp_path / "state", IDV_TIME_ZONE=_zone_on_another_day()))


def _birth_date_problems(response: httpx.Response) -> list[str]:
    return [e["code"] for e in response.json().get("errors") or [] if e["field"] == "birth_date"]


async def test_a_birth_date_is_judged_on_the_services_date_not_utcs(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    today = settings.today()
    assert today != datetime.now(UTC).date()  # the moment the two calendars disagree

    tomorrow = await client.post("/v1/registrations", json=registration(birth_date=str(today + timedelta(days=1))))
    assert tomorrow.status_code == 422 and _birth_date_problems(tomorrow) == ["in_future"]

    born_today = await client.post("/v1/registrations", json=registration(birth_date=str(today)))
    assert _birth_date_problems(born_today) == []
    assert born_today.status_code == 201, born_today.text
