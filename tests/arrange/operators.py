"""Operators' decisions on cases, made over the operator API (operators themselves are enrolled by
`tests.helpers.enrolled_operator`, as `idv operators create` makes them)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from litestar import Litestar

from tests.helpers import OperatorLogin


def operator_endpoints(app: Litestar) -> list[tuple[str, str, Any]]:
    """Every (method, path, handler) of the operator API, read from the app itself."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/v1/operator"):
            continue
        for handler in route.route_handlers:  # type: ignore[union-attr]
            for method in handler.http_methods:
                if method != "OPTIONS":
                    found.append((method, route.path, handler))
    return found


async def claim_and_decide(
    client: httpx.AsyncClient, login: OperatorLogin, case_id: str, decision: str, reason: str
) -> dict[str, Any]:
    """The operator claims the case, then decides it; the decided case."""
    await client.post(f"/v1/operator/cases/{case_id}/claim", headers=login.headers)
    response = await client.post(
        f"/v1/operator/cases/{case_id}/decision",
        json={"decision": decision, "reason_code": reason},
        headers=login.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def decide(
    client: httpx.AsyncClient, login: OperatorLogin, case_id: uuid.UUID, decision: str, reason: str, note: str = ""
) -> httpx.Response:
    """The operator decides, claiming an unclaimed case in the same request; the response, unchecked."""
    # The rule that a decision needs a claim is tested itself in test_a_decision_needs_a_claim.
    body = {"decision": decision, "reason_code": reason, "claim": True, **({"note": note} if note else {})}
    return await client.post(f"/v1/operator/cases/{case_id}/decision", json=body, headers=login.headers)
