"""Registries that confirm a name and ID number belong together, behind one small protocol.

``HttpRealNameProvider`` talks to a real authority (or an aggregator in front of one): a JSON
request signed with HMAC-SHA256 over the timestamp and the raw body, a timeout, retries with
backoff on transport errors and 5xx, and a circuit breaker so an authority that is down costs
one fast failure instead of a timeout per request. ``SandboxRealNameProvider`` answers from a
fixed list of test identities, for development and tests; production refuses it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import httpx
import msgspec


class Outcome(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class RealNameQuery:
    legal_name: str
    id_number: str
    document_type: str


@dataclass(frozen=True)
class RealNameAnswer:
    outcome: Outcome
    provider: str
    reference: str


class ProviderUnavailable(Exception):
    """The registry could not answer now; the check is retried later."""


class RealNameProvider(Protocol):
    name: str

    async def check(self, query: RealNameQuery) -> RealNameAnswer: ...


class _Request(msgspec.Struct):
    request_id: str
    name: str
    id_number: str
    id_type: str


class _Response(msgspec.Struct):
    result: Outcome
    reference: str


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(secret, timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


class CircuitBreaker:
    """Opens after ``threshold`` failures in a row; lets one trial call through after ``cool_down``."""

    def __init__(self, threshold: int = 5, cool_down: float = 30.0) -> None:
        self.threshold = threshold
        self.cool_down = cool_down
        self.failures = 0
        self.opened_at: float | None = None

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        return time.monotonic() - self.opened_at >= self.cool_down

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = time.monotonic()


class HttpRealNameProvider:
    name = "http"

    def __init__(
        self,
        url: str,
        key_id: str,
        secret: bytes,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.2,
        breaker: CircuitBreaker | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.key_id = key_id
        self.secret = secret
        self.attempts = attempts
        self.backoff = backoff
        self.breaker = breaker or CircuitBreaker()
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))

    async def check(self, query: RealNameQuery) -> RealNameAnswer:
        if not self.breaker.allow():
            raise ProviderUnavailable("circuit open")
        body = msgspec.json.encode(_Request(str(uuid.uuid4()), query.legal_name, query.id_number, query.document_type))
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            timestamp = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "x-idv-key-id": self.key_id,
                "x-idv-timestamp": timestamp,
                "x-idv-signature": signature(self.secret, timestamp, body),
            }
            try:
                response = await self.client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError:
                continue
            if response.status_code >= 500 or response.status_code == 429:
                continue
            if response.status_code != 200:
                # A 4xx means our request is wrong (signature, shape): retrying cannot help.
                self.breaker.failed()
                raise ProviderUnavailable(f"registry refused the request ({response.status_code})")
            try:
                answer = msgspec.json.decode(response.content, type=_Response)
            except msgspec.ValidationError:
                continue
            self.breaker.succeeded()
            return RealNameAnswer(answer.result, self.name, answer.reference[:128])
        self.breaker.failed()
        raise ProviderUnavailable("registry did not answer")


# Test identities the sandbox knows (all checksum-valid; none belongs to a real person we know of).
SANDBOX_IDENTITIES: dict[str, tuple[str, Outcome]] = {
    "11010519491231002X": ("张三", Outcome.MATCH),
    "110101199003074477": ("李四", Outcome.MATCH),
    "440305200601010017": ("王小明", Outcome.MATCH),
    "310101198001010034": ("赵六", Outcome.MISMATCH),
}
SANDBOX_UNAVAILABLE = "110101198001010053"


class SandboxRealNameProvider:
    """Development and tests only. A listed number with its listed name matches; a listed number
    with another name, or a number marked mismatch, does not; ``SANDBOX_UNAVAILABLE`` behaves like
    a registry that is down; any other valid number is not found."""

    name = "sandbox"

    async def check(self, query: RealNameQuery) -> RealNameAnswer:
        if query.id_number == SANDBOX_UNAVAILABLE:
            raise ProviderUnavailable("sandbox registry is down for this number")
        known = SANDBOX_IDENTITIES.get(query.id_number)
        reference = "sandbox-" + hashlib.sha256(query.id_number.encode()).hexdigest()[:12]
        if known is None:
            return RealNameAnswer(Outcome.NOT_FOUND, self.name, reference)
        name, outcome = known
        if outcome is Outcome.MATCH and name == query.legal_name:
            return RealNameAnswer(Outcome.MATCH, self.name, reference)
        return RealNameAnswer(Outcome.MISMATCH, self.name, reference)
