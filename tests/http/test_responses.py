"""whoami's answer goes out with its headers encoded once, in order, and says what the ordinary
Litestar response would have said; anything the fast path cannot carry takes the ordinary one."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response.base import ASGIResponse

from service.app import create_asgi
from service.http.responses import EncodedJsonResponse
from service.runtime import Runtime
from service.settings import Settings
from tests.helpers import bearer, register


class Sample(msgspec.Struct):
    name: str
    count: int


def _request() -> Request[Any, Any, Any]:
    scope: Any = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    return Request(scope)


async def _raw(app: Any, path: str, token: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"idv.test"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("203.0.113.10", 50000),
        "server": ("idv.test", 443),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], sent[0]["headers"], body


@pytest.mark.parametrize("path", ["/v1/sessions/whoami", "/v1/sessions/whoami/orders/7"])
async def test_whoami_sends_each_header_once_with_the_body_and_its_length(
    client: httpx.AsyncClient, settings: Settings, runtime: Runtime, path: str
) -> None:
    person = await register(client)
    app = create_asgi(settings, runtime=runtime)
    status, headers, body = await _raw(app, path, person["session"]["token"])
    assert status == 200
    names = [name for name, _ in headers]
    assert len(names) == len(set(names)), names
    # Encoded once, in order: the content headers first (Litestar's own path appends them last).
    assert headers[:2] == [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    as_dict = dict(headers)
    assert as_dict[b"x-idv-account-id"] == person["account_id"].encode()
    assert as_dict[b"cache-control"] == b"no-store"
    assert as_dict[b"x-content-type-options"] == b"nosniff"
    # The same answer as through the client, i.e. as before.
    ordinary = await client.get("/v1/sessions/whoami", headers=bearer(person["session"]["token"]))
    assert msgspec.json.decode(body) == ordinary.json()


def test_the_answer_is_what_litestars_own_response_would_send() -> None:
    arguments: dict[str, Any] = {
        "headers": {},
        "cookies": [],
        "type_encoders": None,
        "media_type": "application/json",
        "status_code": 200,
    }
    content = Sample("a", 2)
    fast = EncodedJsonResponse(content, headers={"X-A": "1"}).to_asgi_response(None, _request(), **arguments)
    ordinary = Response(content, headers={"X-A": "1"}).to_asgi_response(None, _request(), **arguments)
    assert type(fast) is not ASGIResponse  # it did take the fast path
    assert fast.body == ordinary.body
    assert sorted(fast.encode_headers()) == sorted(ordinary.encode_headers())


def test_a_value_msgspec_cannot_encode_takes_the_ordinary_path() -> None:
    class Opaque:
        pass

    encoders: Any = {Opaque: lambda _: "opaque"}
    response = EncodedJsonResponse({"value": Opaque()}).to_asgi_response(
        None, _request(), headers={}, cookies=[], type_encoders=encoders
    )
    assert type(response) is ASGIResponse
    assert response.body == b'{"value":"opaque"}'


def test_cookies_layered_headers_head_requests_and_other_answers_take_the_ordinary_path() -> None:
    cases: list[tuple[Any, dict[str, Any]]] = [
        (Sample("a", 2), {"cookies": [Cookie(key="k", value="v")]}),
        (Sample("a", 2), {"headers": {"x-layer": "1"}}),
        (None, {"is_head_response": True}),
        (None, {"status_code": 204}),
        (Sample("a", 2), {"status_code": 201}),
        ("text", {"media_type": "text/plain"}),
        (b"raw", {}),
    ]
    for content, extra in cases:
        arguments: dict[str, Any] = {"headers": {}, "cookies": [], "type_encoders": None, **extra}
        response = EncodedJsonResponse(content, headers={"x-a": "1"}).to_asgi_response(None, _request(), **arguments)
        assert type(response) is ASGIResponse, extra
        names = [name for name, _ in response.encode_headers()]
        assert b"x-a" in names
        if "cookies" in extra:
            assert b"set-cookie" in names
        if "headers" in extra:
            assert b"x-layer" in names
