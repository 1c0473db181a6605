"""Account look-ups are rate limited per operator session (IDV_RATE_ACCOUNT_LOOKUPS_PER_MINUTE), in
the API and the console alike; a look-up that finds nothing counts too."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from service.runtime import Runtime
from service.settings import Settings, load_settings
from tests.arrange.console import console_sign_in, csrf_of, enrolled_for_console
from tests.conftest import environment_for_tests
from tests.helpers import enrolled_operator

LOOKUP = "/v1/operator/accounts/lookup"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environment_for_tests(tmp_path / "state", IDV_RATE_ACCOUNT_LOOKUPS_PER_MINUTE="3"))


async def test_look_ups_are_limited_per_operator_session(client: httpx.AsyncClient, runtime: Runtime) -> None:
    first = await enrolled_operator(runtime, client, "senior_reviewer")
    second = await enrolled_operator(runtime, client, "privacy_officer")
    body = {"kind": "email", "value": "nobody@example.com", "reason": "user_request"}
    statuses = [(await client.post(LOOKUP, json=body, headers=first.headers)).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    limited = await client.post(LOOKUP, json=body, headers=first.headers)
    assert limited.json()["code"] == "rate_limited" and int(limited.headers["retry-after"]) > 0
    # Another operator, from the same address, has a budget of their own.
    assert (await client.post(LOOKUP, json=body, headers=second.headers)).status_code == 404
    # Other operator endpoints are not counted.
    assert (await client.get("/v1/operator/me", headers=first.headers)).status_code == 200


async def test_console_look_ups_are_limited_too(client: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await enrolled_for_console(runtime, client, "senior_reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303
    token = csrf_of((await client.get("/console/accounts")).text)
    form = {"csrf_token": token, "kind": "phone", "value": "+8613912345678", "reason": "user_request"}
    statuses = [(await client.post("/console/accounts/lookup", data=form)).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
