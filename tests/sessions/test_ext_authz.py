"""whoami as Envoy's HTTP ext_authz calls it: the checked request's path appended, its method kept."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import bearer, register


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/orders/7?page=2"),
        ("POST", "/cart/items"),
        ("PUT", "/a"),
        ("PATCH", "/a"),
        ("DELETE", "/a"),
    ],
)
async def test_whoami_answers_ext_authz_for_any_checked_path_and_method(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    registered = await register(client)
    response = await client.request(
        method, "/v1/sessions/whoami" + path, headers={**bearer(registered["session"]["token"]), "content-length": "0"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-idv-account-id"] == registered["account_id"]
    assert response.headers["x-idv-account-state"]


async def test_ext_authz_without_a_session_is_refused(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1/sessions/whoami/cart/items")).status_code == 401
