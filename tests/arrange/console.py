"""Operators for the console: enrolled (as `idv operators create` and the enrolment API make them)
but not yet signed in, so the console's own sign-in uses the next TOTP step."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from service.audit import Actor
from service.operators.enrolment import create_operator
from service.operators.roles import Role
from service.runtime import Runtime
from tests.arrange.passkeys import SoftAuthenticator
from tests.helpers import STRONG_PASSWORD, totp_code

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass(frozen=True)
class ConsoleOperator:
    operator_id: uuid.UUID
    email: str
    totp_secret: str
    password: str = STRONG_PASSWORD

    def sign_in_code(self) -> str:
        # Enrolment used this time step's code; a code is good once, so sign in with the next.
        return totp_code(self.totp_secret, 1)


async def enrolled_for_console(
    runtime: Runtime, client: httpx.AsyncClient, *roles: str, name: str = "op"
) -> ConsoleOperator:
    """An operator of these roles, enrolled; ``name`` starts their e-mail (pages name operators by
    their e-mail masked, which shows its first letters)."""
    address = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    created = await create_operator(runtime, address, [Role(r) for r in roles], Actor.system("tests"))
    response = await client.post(
        "/v1/operator/enrolment", json={"enrolment_code": created.enrolment_code, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.text
    secret = response.json()["totp_secret"]
    response = await client.post(
        "/v1/operator/enrolment/confirm",
        json={"enrolment_code": created.enrolment_code, "totp_code": totp_code(secret)},
    )
    assert response.status_code == 204, response.text
    return ConsoleOperator(created.operator_id, address, secret)


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match is not None, "the page has no CSRF token"
    return match.group(1)


async def console_sign_in(client: httpx.AsyncClient, operator: ConsoleOperator) -> httpx.Response:
    """Sign in through the console's form (its pre-session cookie and token included); the answer."""
    page = await client.get("/console/sign-in")
    assert page.status_code == 200, page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "email": operator.email,
        "password": operator.password,
        "totp_code": operator.sign_in_code(),
    }
    return await client.post("/console/sign-in", data=form)


async def console_enrol_passkey(
    client: httpx.AsyncClient, operator: ConsoleOperator, authenticator: SoftAuthenticator, name: str = "Work key"
) -> httpx.Response:
    """Enrol a passkey from the console's Passkeys page (the client holds a console session), as
    its script does; the enrolment's answer, unchecked."""
    page = await client.get("/console/passkeys")
    assert page.status_code == 200, page.text
    token = csrf_of(page.text)
    options = await client.post("/console/passkeys/options", json={"csrf_token": token, "password": operator.password})
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json())
    return await client.post(
        "/console/passkeys/enrolment", json={"csrf_token": token, "name": name, "credential": credential}
    )


async def console_passkey_flow(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    """A console sign-in page's pre-session token and the passkey request flow it asked for."""
    page = await client.get("/console/sign-in")
    token = csrf_of(page.text)
    flow = await client.post("/console/sign-in/passkey/options", json={"csrf_token": token})
    assert flow.status_code == 200, flow.text
    body: dict[str, Any] = flow.json()
    return token, body


async def console_passkey_sign_in(client: httpx.AsyncClient, authenticator: SoftAuthenticator) -> httpx.Response:
    """Sign in to the console with the authenticator's passkey, as the sign-in page's script does."""
    token, flow = await console_passkey_flow(client)
    answer = {"csrf_token": token, "flow_id": flow["flow_id"], "credential": authenticator.get(flow["options"])}
    return await client.post("/console/sign-in/passkey", json=answer)
