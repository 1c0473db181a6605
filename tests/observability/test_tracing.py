"""Traces: off and free without an endpoint; with one, requests, queries and jobs as spans that
link to the logs by request id and trace id, and hold no personal data."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from service.app import create_asgi
from service.jobs import JobDefinition, JobRunner, enqueue
from service.observability.logging import configure_logging
from service.observability.spans import Tracing
from service.observability.tracing import start_tracing
from service.runtime import Runtime
from service.settings import Settings
from service.version import VERSION
from tests.conftest import environment_for_tests
from tests.helpers import registration

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    """Tracing as `idv serve` starts it when an endpoint is set, exporting to memory."""
    monkeypatch.setenv(ENDPOINT, "http://127.0.0.1:4318")
    exporter = InMemorySpanExporter()
    tracing = start_tracing(exporter=exporter)
    assert tracing is not None
    try:
        yield tracing, exporter
    finally:
        tracing.shutdown()


@pytest.fixture
async def traced_client(
    settings: Settings, runtime: Runtime, exported: tuple[Tracing, InMemorySpanExporter]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_asgi(settings, runtime=runtime, tracing=exported[0])
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
        yield http


def finished(exported: tuple[Tracing, InMemorySpanExporter]) -> list[ReadableSpan]:
    tracing, exporter = exported
    assert tracing.flush()
    return list(exporter.get_finished_spans())


def everything_in(span: ReadableSpan) -> str:
    """Every text a span carries to the collector."""
    parts: list[Any] = [span.name, span.status.description, dict(span.attributes or {})]
    parts += [(event.name, dict(event.attributes or {})) for event in span.events]
    return json.dumps(parts, ensure_ascii=False, default=str)


def test_without_an_endpoint_no_provider_is_installed_and_nothing_is_instrumented(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.delenv(ENDPOINT, raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert start_tracing() is None
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert not trace.get_tracer("idv").start_span("probe").is_recording()
    assert not hasattr(asyncpg.connection.Connection.fetch, "__wrapped__")
    assert create_asgi(settings, dsn="postgresql://unused").tracing is None


def test_without_an_endpoint_the_service_imports_no_tracer_exporter_or_instrumentation(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(environment_for_tests(tmp_path / "state"))
    script = (
        "import sys\n"
        "PREFIXES = ('opentelemetry.sdk', 'opentelemetry.trace', 'opentelemetry.exporter', "
        "'opentelemetry.instrumentation.asyncpg')\n"
        "from service.app import create_asgi\n"
        "from service.observability.tracing import start_tracing\n"
        "from service.settings import load_settings\n"
        "create_asgi(load_settings(), dsn='postgresql://unused', tracing=start_tracing())\n"
        "print(sorted(m for m in sys.modules if m.startswith(PREFIXES)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    # (Litestar, when it builds an app, looks for its OpenTelemetry plugin and loads a few constants.)
    assert result.stdout.strip() == "[]", result.stdout


def test_a_disabled_sdk_exports_nothing_even_with_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENDPOINT, "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert start_tracing() is None


@pytest.mark.parametrize(("service_name", "expected"), [(None, "idv"), ("idv-staging", "idv-staging")])
def test_the_service_is_named_idv_at_its_version_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch, service_name: str | None, expected: str
) -> None:
    monkeypatch.setenv(ENDPOINT, "http://127.0.0.1:4318")
    if service_name is None:
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    else:
        monkeypatch.setenv("OTEL_SERVICE_NAME", service_name)
    tracing = start_tracing(exporter=InMemorySpanExporter())
    assert tracing is not None
    try:
        resource = tracing.provider.resource.attributes
        assert resource["service.name"] == expected
        assert resource["service.version"] == VERSION
    finally:
        tracing.shutdown()


def test_spans_are_sent_to_the_endpoint_as_otlp_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((self.path, self.headers["content-type"], body))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=collector.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv(ENDPOINT, f"http://127.0.0.1:{collector.server_address[1]}")
        tracing = start_tracing()
        assert tracing is not None
        try:
            with tracing.job("test.exported"):
                pass
            assert tracing.flush()
        finally:
            tracing.shutdown()
    finally:
        collector.shutdown()
        collector.server_close()

    [(path, content_type, body)] = received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    names = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert names["service.name"] == "idv"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["job test.exported"]


async def test_a_request_is_a_server_span_named_by_its_route_with_its_queries_as_children(
    traced_client: httpx.AsyncClient, exported: tuple[Tracing, InMemorySpanExporter]
) -> None:
    body = registration(email="li.na.trace@example.org", phone="+8613711112222", display_name="Li Na")
    registered = await traced_client.post("/v1/registrations", json=body)
    assert registered.status_code == 201, registered.text
    token = registered.json()["session"]["token"]
    # A path with a value in it, refused by the parameter check after routing.
    refused = await traced_client.post(
        "/v1/me/consents/purpose-9f8e7d/withdraw", headers={"authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 400, refused.text

    spans = finished(exported)
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == ["POST /v1/registrations", "POST /v1/me/consents/{purpose}/withdraw"]
    registration_span, refused_span = servers
    assert registration_span.attributes is not None and refused_span.attributes is not None
    assert registration_span.attributes["idv.request_id"] == registered.headers["x-request-id"]
    assert registration_span.attributes["http.route"] == "/v1/registrations"
    assert registration_span.attributes["http.response.status_code"] == 201
    assert refused_span.attributes["idv.request_id"] == refused.headers["x-request-id"]
    assert refused_span.attributes["http.response.status_code"] == 400

    assert registration_span.context is not None
    queries = [s for s in spans if s.parent is not None and s.parent.span_id == registration_span.context.span_id]
    assert queries and all(s.kind is SpanKind.CLIENT for s in queries)
    statements = [str((s.attributes or {}).get("db.statement")) for s in queries]
    assert "INSERT INTO data_keys (owner_id, master_key_id, wrapped_key) VALUES ($1, $2, $3)" in statements
    assert all("db.statement.parameters" not in (s.attributes or {}) for s in spans)

    carried = "\n".join(everything_in(s) for s in spans)
    for value in [*map(str, body.values()), "13711112222", "203.0.113.10", token, "purpose-9f8e7d"]:
        assert value not in carried, value


async def test_a_request_from_our_own_proxy_is_named_by_its_route_too(
    settings: Settings, runtime: Runtime, exported: tuple[Tracing, InMemorySpanExporter]
) -> None:
    app = create_asgi(settings, runtime=runtime, tracing=exported[0])
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))  # a trusted peer by default
    async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
        response = await http.get("/health/live", headers={"x-forwarded-for": "198.51.100.7"})
    assert response.status_code == 200
    [server] = [s for s in finished(exported) if s.kind is SpanKind.SERVER]
    assert server.name == "GET /health/live"
    assert "198.51.100.7" not in everything_in(server)


async def test_a_request_continues_the_callers_trace(
    traced_client: httpx.AsyncClient, exported: tuple[Tracing, InMemorySpanExporter]
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await traced_client.get(
        "/health/live", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01", "x-request-id": "probe-0001"}
    )
    assert response.status_code == 200
    [server] = [s for s in finished(exported) if s.kind is SpanKind.SERVER]
    assert server.context is not None and format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None and server.parent.is_remote
    assert server.name == "GET /health/live"
    assert (server.attributes or {})["idv.request_id"] == "probe-0001"


async def test_logs_written_during_a_request_carry_its_trace_id(
    traced_client: httpx.AsyncClient, exported: tuple[Tracing, InMemorySpanExporter]
) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("DEBUG", stream)
    try:
        response = await traced_client.get("/v1/no-such-route")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    assert response.status_code == 404
    [server] = [s for s in finished(exported) if s.kind is SpanKind.SERVER]
    assert server.name == "GET"  # no route matched: the method alone, never the path
    assert server.context is not None
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [access] = [line for line in lines if line["logger"] == "service.access"]
    assert access["request_id"] == response.headers["x-request-id"]
    assert access["trace_id"] == format(server.context.trace_id, "032x")
    assert access["span_id"] == format(server.context.span_id, "016x")


async def test_a_failed_query_is_exported_without_its_message(
    runtime: Runtime, exported: tuple[Tracing, InMemorySpanExporter]
) -> None:
    tracing = exported[0]
    with tracing.tracer.start_as_current_span("work"):
        async with runtime.database.connection() as conn:
            with pytest.raises(asyncpg.DataError, match="secret-value-771"):
                await conn.fetchval("SELECT $1::int", "secret-value-771")
    [query] = [s for s in finished(exported) if s.kind is SpanKind.CLIENT]
    assert query.status.status_code is StatusCode.ERROR
    [event] = query.events
    assert event.name == "exception"
    assert set(event.attributes or {}) <= {"exception.type", "exception.escaped"}
    assert "DataError" in str((event.attributes or {})["exception.type"])
    assert "secret-value-771" not in everything_in(query)


async def test_queries_outside_a_request_or_job_are_not_traced(
    runtime: Runtime, exported: tuple[Tracing, InMemorySpanExporter]
) -> None:
    async with runtime.database.connection() as conn:
        assert await conn.fetchval("SELECT 1") == 1
    assert finished(exported) == []


async def test_each_job_run_is_a_span_with_its_name_and_outcome(
    runtime: Runtime, database_url: str, exported: tuple[Tracing, InMemorySpanExporter]
) -> None:
    ran: list[str] = []

    async def succeed(_: bytes | None) -> None:
        async with runtime.database.connection() as conn:
            await conn.fetchval("SELECT 2")
        ran.append("ok")

    class Refused(Exception):
        pass

    async def fail(_: bytes | None) -> None:
        ran.append("failed")
        raise Refused("holds 4455 that must not leave")

    async with runtime.database.transaction() as conn:
        await enqueue(conn, "test.succeed")
        await enqueue(conn, "test.fail")
    runner = JobRunner(
        database_url,
        [JobDefinition("test.succeed", succeed), JobDefinition("test.fail", fail, max_attempts=1)],
        poll_interval=timedelta(seconds=0.2),
        tracing=exported[0],
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        async with asyncio.timeout(10):
            while len(ran) < 2:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)

    spans = finished(exported)
    jobs = {s.name: s for s in spans if s.parent is None}
    assert set(jobs) == {"job test.succeed", "job test.fail"}, [s.name for s in spans]
    succeeded, failed = jobs["job test.succeed"], jobs["job test.fail"]
    assert (succeeded.attributes or {})["idv.job.name"] == "test.succeed"
    assert (succeeded.attributes or {})["idv.job.outcome"] == "succeeded"
    assert isinstance((succeeded.attributes or {})["idv.job.id"], int)
    assert (failed.attributes or {})["idv.job.outcome"] == "failed"
    assert (failed.attributes or {})["error.type"] == "Refused"
    assert failed.status.status_code is StatusCode.ERROR
    assert succeeded.context is not None
    children = [s for s in spans if s.parent is not None and s.parent.span_id == succeeded.context.span_id]
    assert [(s.attributes or {}).get("db.statement") for s in children] == ["SELECT 2"]
    assert "4455" not in "\n".join(everything_in(s) for s in spans)
