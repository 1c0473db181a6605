"""Least privilege: every operator endpoint against every role.

The matrix is read from the app itself, so a new endpoint is covered the day it is added,
and one that forgets to declare its roles fails here (and is refused at run time).
"""

from __future__ import annotations

import re
import uuid

import httpx

from service.app import create_litestar
from service.operators.auth import ROLES_OPT
from service.operators.roles import Role
from service.runtime import Runtime
from service.settings import Settings
from tests.arrange.cases import case_in_review
from tests.arrange.operators import operator_endpoints
from tests.helpers import enrolled_operator

# Reachable without an operator session: how one becomes an operator and signs in.
PUBLIC = {
    ("POST", "/v1/operator/enrolment"),
    ("POST", "/v1/operator/enrolment/confirm"),
    ("POST", "/v1/operator/sessions"),
    ("POST", "/v1/operator/sessions/passkey/options"),
    ("POST", "/v1/operator/sessions/passkey"),
}


def test_every_operator_endpoint_is_public_on_purpose_or_declares_roles(settings: Settings) -> None:
    app = create_litestar(settings, dsn="postgresql://unused")
    endpoints = operator_endpoints(app)
    assert len(endpoints) >= 15
    for method, path, handler in endpoints:
        guarded = any(g.__name__ == "operator_guard" for g in handler.resolve_guards())
        if (method, path) in PUBLIC:
            assert not guarded, path
            continue
        assert guarded, f"{method} {path} has no operator guard"
        roles = handler.opt.get(ROLES_OPT)
        assert roles and roles <= set(Role), f"{method} {path} declares no roles"


async def test_each_role_reaches_exactly_the_endpoints_that_allow_it(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    case_id = await case_in_review(client, runtime)
    logins = {role: await enrolled_operator(runtime, client, role.value) for role in Role}
    bystander = await enrolled_operator(runtime, client, "reviewer")
    values = {
        "case_id": str(case_id),
        "operator_id": str(bystander.operator_id),
        "name": "id_number",
        # Unknown ones: the role check comes first, so they answer 404 to the roles allowed.
        "document_id": str(uuid.uuid4()),
        "qualification_id": str(uuid.uuid4()),
        "role": "document",
        "account_id": str(uuid.uuid4()),
        "recipient_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "passkey_id": str(uuid.uuid4()),
    }

    app = create_litestar(settings, dsn="postgresql://unused")
    checked = 0
    for method, path, handler in operator_endpoints(app):
        if (method, path) in PUBLIC:
            continue
        url = re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)
        allowed = handler.opt[ROLES_OPT]
        # Sign-out last, or the session it ends would be gone for the rest of the matrix.
        for role in Role:
            if path.endswith("/sessions/current"):
                continue
            response = await client.request(method, url, headers=logins[role].headers, json={})
            refused = response.status_code == 403 and response.json()["code"] == "role_not_allowed"
            assert refused == (role not in allowed), f"{role} {method} {url}: {response.status_code} {response.text}"
            assert response.status_code != 401, f"{role} {method} {url}"
            checked += 1
    for role in Role:
        response = await client.delete("/v1/operator/sessions/current", headers=logins[role].headers)
        assert response.status_code == 204
    assert checked >= 14 * len(Role)


async def test_a_refused_call_is_audited(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    response = await client.get("/v1/operator/cases", headers=admin.headers)
    assert response.status_code == 403
    async with runtime.database.connection() as conn:
        row = await conn.fetchrow("SELECT actor_id, target_type FROM audit_log WHERE action = 'operator.access_denied'")
    assert row is not None and row["actor_id"] == str(admin.operator_id)
    assert uuid.UUID(row["actor_id"]) == admin.operator_id
