"""A client cannot choose its own address with a forged X-Forwarded-For: served by uvicorn exactly
as `idv serve` serves it, the address is the right-most one our own proxy wrote."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from service.app import create_asgi
from service.http.forwarding import forwarded_client, parse_networks, unmapped
from service.http.server import listening_sockets, server_config
from service.runtime import Runtime
from service.settings import SettingsError, load_settings
from tests.conftest import environment_for_tests

GATEWAY = parse_networks("10.0.0.0/8")


def test_the_client_is_the_address_our_hop_wrote() -> None:
    # Envoy (10.0.0.5) appended what it saw, 10.9.9.9 (a hop of the client's in the same range):
    # the forged left-most entry is the client's own writing and proves nothing.
    assert forwarded_client("10.0.0.5", ["1.2.3.4", "10.9.9.9"], GATEWAY, 1) == "10.9.9.9"
    assert forwarded_client("10.0.0.5", ["1.2.3.4", "203.0.113.7"], GATEWAY, 1) == "203.0.113.7"
    # Two proxies of ours (a load balancer, then Envoy): the client is two from the right.
    assert forwarded_client("10.0.0.5", ["1.2.3.4", "203.0.113.7", "10.0.0.2"], GATEWAY, 2) == "203.0.113.7"
    # A peer that is not our proxy sets nothing; neither does a list shorter than our hops.
    assert forwarded_client("198.51.100.1", ["1.2.3.4"], GATEWAY, 1) == "198.51.100.1"
    assert forwarded_client("10.0.0.5", ["1.2.3.4"], GATEWAY, 2) == "10.0.0.5"
    assert forwarded_client("10.0.0.5", ["unknown"], GATEWAY, 1) == "10.0.0.5"
    assert forwarded_client("10.0.0.5", ["2001:db8::1"], GATEWAY, 1) == "2001:db8::1"
    assert parse_networks("*")[0] == ipaddress.ip_network("0.0.0.0/0")


def test_an_ipv4_mapped_peer_is_its_ipv4_address() -> None:
    assert unmapped("::ffff:10.1.2.3") == "10.1.2.3"
    assert unmapped("2001:db8::1") == "2001:db8::1"
    assert unmapped("10.1.2.3") == "10.1.2.3"
    assert unmapped("unknown") == "unknown"


def test_a_malformed_proxy_list_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="IDV_FORWARDED_ALLOW_IPS"):
        load_settings(environment_for_tests(tmp_path, IDV_FORWARDED_ALLOW_IPS="10.0.0.0/8, gateway"))


@pytest.fixture(params=["127.0.0.1", "::"])
async def served(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> AsyncIterator[str]:
    """The app behind a real uvicorn on a loopback port; loopback plays the gateway's network.
    Also on a dual-stack socket (`::`), where the gateway's IPv4 address arrives IPv4-mapped."""
    settings = load_settings(
        environment_for_tests(tmp_path, IDV_FORWARDED_ALLOW_IPS="127.0.0.0/8", IDV_RATE_SIGN_INS_PER_MINUTE="5")
    )
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        [listener] = listening_sockets(request.param, 0)
        port = listener.getsockname()[1]
        app = create_asgi(settings, runtime=runtime)
        server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, graceful_seconds=1))
        task = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await task
            listener.close()


async def test_a_forged_forwarded_for_does_not_dodge_a_limit(served: str) -> None:
    attempts = []
    async with httpx.AsyncClient(base_url=served) as client:
        for i in range(40):
            # What a client beyond the gateway sends, with the hop the gateway saw appended.
            forged = {"x-forwarded-for": f"198.51.100.{i}, 127.0.0.9"}
            body = {"identifier": f"n{i}@example.com", "password": "wrong-password-1"}
            attempts.append(await client.post("/v1/sessions", json=body, headers=forged))
    statuses = [r.status_code for r in attempts]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}, statuses
