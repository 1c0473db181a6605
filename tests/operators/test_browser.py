"""Operators' passkeys in a real browser, with passkeys required: Debian's Chromium driven by
Playwright, with Chromium's virtual authenticator, on a page of the service's own origin. The
restricted session from password and TOTP enrols the passkey; the passkey then signs in.

Skipped only when chromium is absent outside CI; under CI it must run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.arrange.browser import CHROMIUM, add_virtual_authenticator, served_app
from tests.helpers import STRONG_PASSWORD, enrolled_operator

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium, as scripts/install does as root); runs under CI",
)

# What an operator console would run: fetch() against the operator API and the browser's WebAuthn
# JSON helpers.
PAGE = """<!doctype html><meta charset="utf-8"><title>operator passkeys</title>
<script>
async function call(method, path, body, token) {
  const headers = {"content-type": "application/json"};
  if (token) headers.authorization = "Bearer " + token;
  const response = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null};
}
async function enrol(token, password, name) {
  const options = await call("POST", "/v1/operator/passkeys/options", {password}, token);
  if (options.status !== 200) return options;
  const created = await navigator.credentials.create(
    {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.body)});
  return call("POST", "/v1/operator/passkeys", {name, credential: created.toJSON()}, token);
}
async function signIn() {
  const flow = await call("POST", "/v1/operator/sessions/passkey/options");
  const got = await navigator.credentials.get(
    {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(flow.body.options)});
  const answer = {flow_id: flow.body.flow_id, credential: got.toJSON()};
  return {answer, signedIn: await call("POST", "/v1/operator/sessions/passkey", answer)};
}
</script>"""


async def test_an_operator_enrols_a_required_passkey_and_signs_in_with_it_in_chromium(
    tmp_path: Path, database_url: str
) -> None:
    from playwright.async_api import async_playwright

    async with served_app(tmp_path, database_url, IDV_OPERATOR_REQUIRE_PASSKEY="true") as (origin, runtime):
        async with httpx.AsyncClient(base_url=origin.replace("localhost", "127.0.0.1")) as api:
            login = await enrolled_operator(runtime, api, "reviewer")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                context = await browser.new_context()
                page = await context.new_page()
                await page.route(
                    f"{origin}/operator-passkey-test", lambda route: route.fulfill(content_type="text/html", body=PAGE)
                )
                await page.goto(f"{origin}/operator-passkey-test")
                await add_virtual_authenticator(context, page)

                async def run(script: str, *args: Any) -> Any:
                    return await page.evaluate(script, list(args))

                cases = await run("([t]) => call('GET', '/v1/operator/cases', undefined, t)", login.token)
                assert cases["status"] == 403 and cases["body"]["code"] == "passkey_required"
                enrolled = await run("([t, p]) => enrol(t, p, 'Chromium')", login.token, STRONG_PASSWORD)
                assert enrolled["status"] == 201, enrolled

                first = await run("() => signIn()")
                assert first["signedIn"]["status"] == 201, first
                token = first["signedIn"]["body"]["token"]
                assert first["signedIn"]["body"]["restricted"] is False
                me = await run("([t]) => call('GET', '/v1/operator/me', undefined, t)", token)
                assert me["body"]["operator_id"] == str(login.operator_id)
                assert me["body"]["signed_in_with"] == "passkey"
                cases = await run("([t]) => call('GET', '/v1/operator/cases', undefined, t)", token)
                assert cases["status"] == 200, cases

                replayed = await run("([a]) => call('POST', '/v1/operator/sessions/passkey', a)", first["answer"])
                assert replayed["status"] == 401 and replayed["body"]["code"] == "passkey_refused"
            finally:
                await browser.close()
