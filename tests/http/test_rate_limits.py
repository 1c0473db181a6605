"""Per-address rate limits on registration, sign-in and codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from service.app import create_asgi
from service.runtime import Runtime
from service.settings import load_settings
from tests.conftest import environment_for_tests
from tests.helpers import registration


@pytest.fixture
async def strict_client(tmp_path: Path, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        environment_for_tests(tmp_path, IDV_RATE_REGISTRATIONS_PER_HOUR="2", IDV_RATE_SIGN_INS_PER_MINUTE="3")
    )
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("192.0.2.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as client:
            yield client


async def test_registration_is_limited_per_address(strict_client: httpx.AsyncClient) -> None:
    for i in range(2):
        response = await strict_client.post(
            "/v1/registrations", json=registration(username=f"user_{i}", email=f"u{i}@example.com", phone=None)
        )
        assert response.status_code == 201
    limited = await strict_client.post(
        "/v1/registrations", json=registration(username="user_x", email="ux@example.com", phone=None)
    )
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    # Other endpoints keep their own budgets.
    assert (await strict_client.get("/v1/policies")).status_code == 200


async def test_sign_in_is_limited_per_address(strict_client: httpx.AsyncClient) -> None:
    statuses = [
        (
            await strict_client.post(
                "/v1/sessions", json={"identifier": f"n{i}@example.com", "password": "whatever-123"}
            )
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
