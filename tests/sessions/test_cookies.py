"""The session cookie: host-only by default; for a parent domain when IDV_COOKIE_DOMAIN is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from service.app import create_asgi
from service.runtime import Runtime
from service.settings import Settings, SettingsError, load_settings
from tests.conftest import environment_for_tests
from tests.helpers import registration


def session_cookie(response: httpx.Response) -> tuple[str, str]:
    """(name, the Set-Cookie header) of the one session cookie set."""
    headers = [h for h in response.headers.get_list("set-cookie") if "idv_session=" in h]
    assert len(headers) == 1, headers
    return next(iter(SimpleCookie(headers[0]))), headers[0]


async def test_by_default_the_cookie_is_host_only(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/registrations", json=registration())
    name, header = session_cookie(response)
    assert name == "__Host-idv_session"
    attributes = header.lower()
    assert "domain=" not in attributes
    assert "secure" in attributes and "httponly" in attributes and "path=/" in attributes


@pytest.fixture
async def parent_domain_client(tmp_path: Path, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(environment_for_tests(tmp_path / "state", IDV_COOKIE_DOMAIN=".Example.com"))
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 1))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.example.com") as http:
            yield http


async def test_with_a_cookie_domain_the_cookie_goes_to_the_parent_domain(
    parent_domain_client: httpx.AsyncClient,
) -> None:
    client = parent_domain_client
    response = await client.post("/v1/registrations", json=registration())
    assert response.status_code == 201, response.text
    name, header = session_cookie(response)
    # __Host- forbids Domain; __Secure- allows it and still demands Secure.
    assert name == "__Secure-idv_session"
    attributes = header.lower()
    assert "domain=example.com" in attributes
    assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes

    # A sibling app's forward-auth passes the browser's cookie on: whoami reads it.
    token = response.json()["session"]["token"]
    client.cookies.clear()
    whoami = await client.get("/v1/sessions/whoami", headers={"cookie": f"__Secure-idv_session={token}"})
    assert whoami.status_code == 200, whoami.text
    assert (
        await client.head("/v1/sessions/whoami", headers={"cookie": f"__Host-idv_session={token}"})
    ).status_code == 401

    out = await client.delete("/v1/sessions/current", headers={"cookie": f"__Secure-idv_session={token}"})
    assert out.status_code == 204
    name, header = session_cookie(out)
    assert name == "__Secure-idv_session"
    assert "domain=example.com" in header.lower() and "max-age=0" in header.lower()


@pytest.mark.parametrize(
    "value", ["https://example.com", "example.com:443", "*.example.com", "localhost", "exa mple.com"]
)
def test_a_cookie_domain_must_be_a_domain_name(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="IDV_COOKIE_DOMAIN"):
        load_settings(environment_for_tests(tmp_path / "state", IDV_COOKIE_DOMAIN=value))


def test_no_cookie_domain_by_default(settings: Settings) -> None:
    assert settings.cookie_domain is None
