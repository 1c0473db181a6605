"""Bodies no JSON decoder should accept get a 400 problem, for every kind of endpoint, and a
client that leaves mid-body is not a server error: neither is logged as an error."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from service.app import create_asgi
from service.runtime import Runtime
from service.settings import Settings
from tests.helpers import bearer, enrolled_operator, register

PROBLEM = "application/problem+json"

MALFORMED = {
    # 2 KB that made msgspec raise RecursionError.
    "nested_arrays": b"[" * 1000 + b"]" * 1000,
    "nested_objects": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    # Invalid UTF-8 inside a string and as a key: UnicodeDecodeError.
    "invalid_utf8_in_a_string": b'{"display_name": "\xff\xfe"}',
    "invalid_utf8_in_a_key": b'{"\xc3\x28": 1}',
    "truncated": b'{"display_name": "x"',
}


def assert_no_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert loud == [], [(r.name, r.getMessage()) for r in loud]


@pytest.mark.parametrize("body", list(MALFORMED))
async def test_malformed_bodies_are_a_400_for_every_kind_of_endpoint(
    client: httpx.AsyncClient, runtime: Runtime, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    user = bearer((await register(client))["session"]["token"])
    operator = await enrolled_operator(runtime, client, "admin")
    endpoints: list[tuple[str, str, dict[str, str]]] = [
        ("POST", "/v1/registrations", {}),  # anonymous
        ("POST", "/v1/sessions", {}),  # anonymous sign-in
        ("PATCH", "/v1/me", user),  # a signed-in user
        ("POST", "/v1/me/requests", user),
        ("POST", "/v1/operator/operators", operator.headers),  # an operator
    ]
    caplog.set_level(logging.INFO)
    caplog.clear()
    for method, path, headers in endpoints:
        response = await client.request(
            method, path, content=MALFORMED[body], headers={"content-type": "application/json", **headers}
        )
        assert response.status_code == 400, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "malformed_body"
    assert_no_error_logged(caplog)
    noted = [r for r in caplog.records if r.getMessage() == "malformed request body"]
    assert len(noted) == len(endpoints) and all(r.levelno == logging.INFO for r in noted)


async def test_a_client_that_disconnects_mid_body_is_not_a_server_error(
    settings: Settings, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_asgi(settings, runtime=runtime)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/v1/registrations",
        "raw_path": b"/v1/registrations",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"idv.test"), (b"content-type", b"application/json"), (b"content-length", b"500")],
        "client": ("203.0.113.10", 50000),
        "server": ("idv.test", 443),
    }
    incoming = [
        {"type": "http.request", "body": b'{"display_name": "Bru', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    caplog.set_level(logging.INFO)
    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 499
    assert_no_error_logged(caplog)
