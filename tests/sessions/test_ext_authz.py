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
        ("HEAD", "/orders/7"),
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


async def test_whoami_answers_head_with_the_headers_of_get_and_no_body(client: httpx.AsyncClient) -> None:
    registered = await register(client)
    auth = bearer(registered["session"]["token"])
    got = await client.get("/v1/sessions/whoami", headers=auth)
    headed = await client.head("/v1/sessions/whoami", headers=auth)
    assert headed.status_code == 200  # Envoy's ext_authz allows a request on 200 only
    assert headed.content == b""
    forwarded = {name: value for name, value in got.headers.items() if name.startswith("x-idv-")}
    assert len(forwarded) == 9
    assert forwarded["x-idv-face-verified-by"] == "none"
    assert {name: headed.headers[name] for name in forwarded} == forwarded
    assert headed.headers["cache-control"] == "no-store"


async def test_head_without_a_session_is_refused(client: httpx.AsyncClient) -> None:
    for path in ("/v1/sessions/whoami", "/v1/sessions/whoami/orders/7"):
        refused = await client.head(path)
        assert refused.status_code == 401, path
        assert refused.content == b""
        assert "x-idv-account-id" not in refused.headers
