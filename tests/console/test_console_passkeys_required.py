"""With IDV_OPERATOR_REQUIRE_PASSKEY the console's password-and-TOTP session is restricted as the
API's is: it reaches the home page and sign-out, nothing that reads or acts on a case."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from service.runtime import Runtime
from service.settings import Settings, load_settings
from tests.arrange.cases import case_in_review
from tests.arrange.console import console_sign_in, csrf_of, enrolled_for_console
from tests.conftest import environment_for_tests


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environment_for_tests(tmp_path / "state", IDV_OPERATOR_REQUIRE_PASSKEY="true"))


async def test_a_password_and_totp_console_session_reaches_nothing_that_acts(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    case_id = await case_in_review(client, runtime)
    operator = await enrolled_for_console(runtime, client, "reviewer", "senior_reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303
    home = await client.get("/console/")
    assert home.status_code == 200
    token = csrf_of(home.text)
    for path in ("/console/queue", f"/console/cases/{case_id}"):
        refused = await client.get(path)
        assert refused.status_code == 403, path
        assert "passkey_required" in refused.text
        assert "1101" not in refused.text
    claim = await client.post(f"/console/cases/{case_id}/claim", data={"csrf_token": token})
    assert claim.status_code == 403 and "passkey_required" in claim.text
    signed_out = await client.post("/console/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/console/sign-in"
    assert (await client.get("/console/")).status_code == 303
