"""Passkeys in a real browser: Debian's Chromium driven by Playwright, with Chromium's virtual
authenticator (CTAP2, internal transport, resident keys, user verification) on a page of the
service's own origin, ``http://localhost:<port>`` (a secure context), that runs
navigator.credentials.create/get with the API's options and posts what they give back.

Skipped only when chromium is absent outside CI (`apt-get install chromium`; scripts/install does
it as root); under CI it must run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.arrange.browser import CHROMIUM, add_virtual_authenticator, served_app
from tests.helpers import STRONG_PASSWORD, register

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium, as scripts/install does as root); runs under CI",
)

# The tiny page the test serves on the service's origin: fetch() against the API, and the WebAuthn
# JSON helpers of the browser (parse...FromJSON, toJSON), as a frontend would use them.
PAGE = """<!doctype html><meta charset="utf-8"><title>passkeys</title>
<script>
async function call(method, path, body, token) {
  const headers = {"content-type": "application/json"};
  if (token) headers.authorization = "Bearer " + token;
  const response = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null};
}
async function enrol(token, password, name) {
  const options = await call("POST", "/v1/me/passkeys/options", {password}, token);
  if (options.status !== 200) return options;
  const created = await navigator.credentials.create(
    {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.body)});
  return call("POST", "/v1/me/passkeys", {name, credential: created.toJSON()}, token);
}
async function assertion(identifier) {
  const flow = await call("POST", "/v1/sessions/passkey/options", identifier ? {identifier} : {});
  const got = await navigator.credentials.get(
    {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(flow.body.options)});
  return {flow_id: flow.body.flow_id, credential: got.toJSON()};
}
async function signIn(identifier) {
  const answer = await assertion(identifier);
  const signedIn = await call("POST", "/v1/sessions/passkey", answer);
  return {answer, signedIn};
}
</script>"""


@pytest.fixture
async def served(tmp_path: Path, database_url: str) -> AsyncIterator[str]:
    async with served_app(tmp_path, database_url) as (origin, _):
        yield origin


async def test_enrol_sign_in_and_remove_a_passkey_in_chromium(served: str) -> None:
    from playwright.async_api import async_playwright

    async with httpx.AsyncClient(base_url=served.replace("localhost", "127.0.0.1")) as api:
        me = await register(api)
    token = me["session"]["token"]

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await page.route(f"{served}/passkey-test", lambda route: route.fulfill(content_type="text/html", body=PAGE))
            await page.goto(f"{served}/passkey-test")
            await add_virtual_authenticator(context, page)

            async def run(script: str, *args: Any) -> Any:
                return await page.evaluate(script, list(args))

            enrolled = await run("([t, p]) => enrol(t, p, 'Chromium')", token, STRONG_PASSWORD)
            assert enrolled["status"] == 201, enrolled

            # Without an identifier: the browser offers its discoverable passkey.
            first = await run("() => signIn(null)")
            assert first["signedIn"]["status"] == 201, first
            assert first["signedIn"]["body"]["account_id"] == me["account_id"]
            session = first["signedIn"]["body"]["session"]["token"]
            whoami = await run("([t]) => call('GET', '/v1/sessions/whoami', undefined, t)", session)
            assert whoami["body"]["assurance"]["level"] == 2

            # The same assertion again is refused: its challenge was used.
            replayed = await run("([a]) => call('POST', '/v1/sessions/passkey', a)", first["answer"])
            assert replayed["status"] == 401
            assert replayed["body"]["code"] == "passkey_refused"

            # With an identifier: the options name the passkey.
            second = await run("([i]) => signIn(i)", "bruce@example.com")
            assert second["signedIn"]["status"] == 201, second

            # Removed, it no longer signs in (the browser still holds it).
            listed = await run("([t]) => call('GET', '/v1/me/passkeys', undefined, t)", token)
            passkey_id = listed["body"][0]["id"]
            removed = await run(
                "([t, id, p]) => call('DELETE', '/v1/me/passkeys/' + id, {password: p}, t)",
                token,
                passkey_id,
                STRONG_PASSWORD,
            )
            assert removed["status"] == 204, removed
            after = await run("() => signIn(null)")
            assert after["signedIn"]["status"] == 401
        finally:
            await browser.close()
