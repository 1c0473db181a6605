"""The registry adapters: the HTTP one against a local server standing in for an authority
(signature, timeouts, retries, circuit breaker), and the sandbox's documented identities."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Request, Response, post

from service.database.embedded import free_port
from service.realname.providers import (
    SANDBOX_UNAVAILABLE,
    CircuitBreaker,
    HttpRealNameProvider,
    Outcome,
    ProviderUnavailable,
    RealNameQuery,
    SandboxRealNameProvider,
)
from tests.peers import serving, signed_by

SECRET = b"registry-shared-secret-0123456789"
QUERY = RealNameQuery("张三", "11010519491231002X", "resident_id_card")


@dataclass
class Authority:
    """Checks each request's signature like a real registry would, and misbehaves on demand."""

    failures_left: int = 0
    delay: float = 0.0
    bodies: list[bytes] = field(default_factory=list)
    bad_signatures: int = 0


@pytest.fixture
async def authority() -> AsyncIterator[tuple[Authority, str]]:
    state = Authority()

    @post("/verify", status_code=200)
    async def verify(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        body = await request.body()
        state.bodies.append(body)
        if not signed_by(SECRET, request.headers, body):
            state.bad_signatures += 1
            return Response({"error": "bad signature"}, status_code=401)
        if state.delay:
            await asyncio.sleep(state.delay)
        if state.failures_left:
            state.failures_left -= 1
            return Response({"error": "busy"}, status_code=503)
        return Response({"result": "match", "reference": "ref-42"}, status_code=200)

    async with serving(verify) as base:
        yield state, f"{base}/verify"


async def test_a_signed_request_gets_the_registrys_answer(authority: tuple[Authority, str]) -> None:
    state, url = authority
    answer = await HttpRealNameProvider(url, "idv-test", SECRET).check(QUERY)
    assert (answer.outcome, answer.reference, answer.provider) == (Outcome.MATCH, "ref-42", "http")
    assert state.bad_signatures == 0 and b"11010519491231002X" in state.bodies[0]


async def test_a_wrong_key_is_refused_and_not_retried(authority: tuple[Authority, str]) -> None:
    state, url = authority
    with pytest.raises(ProviderUnavailable, match="401"):
        await HttpRealNameProvider(url, "idv-test", b"another-secret").check(QUERY)
    assert state.bad_signatures == 1


async def test_busy_answers_are_retried_with_backoff(authority: tuple[Authority, str]) -> None:
    state, url = authority
    state.failures_left = 2
    started = time.monotonic()
    answer = await HttpRealNameProvider(url, "idv-test", SECRET, backoff=0.1).check(QUERY)
    assert answer.outcome is Outcome.MATCH and len(state.bodies) == 3
    assert time.monotonic() - started >= 0.3  # 0.1 then 0.2


async def test_a_slow_registry_times_out_and_the_breaker_opens(authority: tuple[Authority, str]) -> None:
    state, url = authority
    state.delay = 1.0
    breaker = CircuitBreaker(threshold=2, cool_down=60)
    provider = HttpRealNameProvider(url, "idv-test", SECRET, timeout=0.2, attempts=1, breaker=breaker)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="did not answer"):
            await provider.check(QUERY)
    calls = len(state.bodies)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        await provider.check(QUERY)
    assert len(state.bodies) == calls and time.monotonic() - started < 0.05

    breaker.opened_at = time.monotonic() - 61  # the cool-down has passed: one trial goes through
    state.delay = 0
    assert (await provider.check(QUERY)).outcome is Outcome.MATCH
    assert breaker.failures == 0


async def test_nobody_listening_is_unavailable_not_an_error() -> None:
    provider = HttpRealNameProvider(f"http://127.0.0.1:{free_port()}/verify", "k", SECRET, attempts=2, backoff=0.01)
    with pytest.raises(ProviderUnavailable):
        await provider.check(QUERY)


async def test_the_sandbox_answers_from_its_documented_identities() -> None:
    sandbox = SandboxRealNameProvider()
    assert (await sandbox.check(QUERY)).outcome is Outcome.MATCH
    assert (await sandbox.check(RealNameQuery("李四", QUERY.id_number, "resident_id_card"))).outcome is Outcome.MISMATCH
    unknown = RealNameQuery("张三", "110101199001011237", "resident_id_card")
    assert (await sandbox.check(unknown)).outcome is Outcome.NOT_FOUND
    with pytest.raises(ProviderUnavailable):
        await sandbox.check(RealNameQuery("张三", SANDBOX_UNAVAILABLE, "resident_id_card"))
