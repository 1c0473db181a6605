"""With IDV_OPERATOR_REQUIRE_PASSKEY the console's password-and-TOTP session is restricted as the
API's is: it reaches the home page, sign-out and the Passkeys page to enrol the first passkey,
nothing that reads or acts on a case; the passkey then signs in for a full session."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest

from service.runtime import Runtime
from service.settings import Settings, load_settings
from tests.arrange.cases import case_in_review
from tests.arrange.console import (
    console_enrol_passkey,
    console_passkey_sign_in,
    console_sign_in,
    csrf_of,
    enrolled_for_console,
)
from tests.arrange.passkeys import SoftAuthenticator
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
        # Not even masked evidence (the session's token and the case id are random hex: not them).
        assert "1101" not in refused.text.replace(token, "").replace(str(case_id), "")
    claim = await client.post(f"/console/cases/{case_id}/claim", data={"csrf_token": token})
    assert claim.status_code == 403 and "passkey_required" in claim.text
    signed_out = await client.post("/console/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/console/sign-in"
    assert (await client.get("/console/")).status_code == 303


async def test_the_restricted_console_session_enrols_the_first_passkey_then_the_passkey_signs_in(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await case_in_review(client, runtime)
    operator = await enrolled_for_console(runtime, client, "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303
    home = await client.get("/console/")
    assert "/console/passkeys" in home.text and "/console/queue" not in home.text
    device = SoftAuthenticator(origin=runtime.settings.webauthn_origins[0], rp_id=runtime.settings.webauthn_rp_id)
    enrolled = await console_enrol_passkey(client, operator, device)
    assert enrolled.status_code == 201, enrolled.text
    # Still the restricted session: it must now sign in with the passkey, as the API's must.
    page = await client.get("/console/passkeys")
    assert page.status_code == 200 and 'id="passkey-next"' in page.text and 'id="passkey-enrol"' not in page.text
    assert (await client.get("/console/queue")).status_code == 403
    second = await client.post(
        "/console/passkeys/options", json={"csrf_token": csrf_of(page.text), "password": operator.password}
    )
    assert second.status_code == 403 and second.json()["code"] == "passkey_required"
    passkey_id = await db.fetchval("SELECT id FROM operator_passkeys")
    removal = await client.post(
        f"/console/passkeys/{passkey_id}/remove", data={"csrf_token": csrf_of(page.text), "password": operator.password}
    )
    assert removal.status_code == 403 and "passkey_required" in removal.text

    signed_in = await console_passkey_sign_in(client, device)
    assert signed_in.status_code == 200, signed_in.text
    assert (await client.get("/console/queue")).status_code == 200
    assert (await client.get(f"/console/cases/{case_id}")).status_code == 200
    ended = await db.fetch("SELECT signed_in_with, end_reason FROM operator_sessions WHERE ended_at IS NOT NULL")
    assert [(row["signed_in_with"], row["end_reason"]) for row in ended] == [("password_totp", "replaced")]
    # The last passkey stays while passkeys are required.
    page = await client.get("/console/passkeys")
    last = await client.post(
        f"/console/passkeys/{passkey_id}/remove", data={"csrf_token": csrf_of(page.text), "password": operator.password}
    )
    assert last.status_code == 409 and "last_passkey" in last.text
    # Password and TOTP no longer sign this operator in to the console (the code used once more, as
    # if the next time step had come).
    await db.execute("UPDATE operators SET totp_last_step = totp_last_step - 1 WHERE id = $1", operator.operator_id)
    client.cookies.clear()
    refused = await console_sign_in(client, operator)
    assert refused.status_code == 403 and "passkey_required" in refused.text
    assert (await client.get("/console/")).status_code == 303
