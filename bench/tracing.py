"""What tracing costs whoami: calls/s with traces off (no endpoint) and on, in one run.

    .venv/bin/python bench/tracing.py [--calls 3000] [--rounds 5]

One signed-in user calls whoami ``--calls`` times in a row through the ASGI app in process (no
HTTP server, so the app's own cost is not hidden behind the network's), in rounds that alternate
off and on; tracing is started before each "on" round and shut down after it, so the "off"
rounds run exactly as a process without an endpoint does (asyncpg not instrumented). "On" exports
to an exporter that drops the spans: it counts making, sampling, redacting and queueing them, not
encoding and sending them, which the batch processor does on its own thread.
Prints the median calls/s of each and their ratio. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from service.app import create_asgi
from service.database.embedded import EmbeddedPostgres
from service.database.local import prepare_embedded
from service.observability.spans import Tracing
from service.observability.tracing import start_tracing
from service.runtime import Runtime
from service.settings import Settings, load_settings

REGISTRATION = {
    "display_name": "Bench User",
    "username": "bench_user",
    "email": "bench@example.com",
    "phone": "+8613812345678",
    "password": "violet-harbour-tractor-91",
    "birth_date": "1990-11-27",
    "accepted_terms_version": "2026-11-01",
    "accepted_privacy_version": "2026-11-01",
}


class Dropped(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


async def calls_per_second(
    settings: Settings, runtime: Runtime, token: str, calls: int, tracing: Tracing | None
) -> float:
    app = create_asgi(settings, runtime=runtime, tracing=tracing)
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://idv.test") as client:
        for _ in range(50):  # warm up
            await client.get("/v1/sessions/whoami", headers=headers)
        started = time.perf_counter()
        for _ in range(calls):
            response = await client.get("/v1/sessions/whoami", headers=headers)
            assert response.status_code == 200, response.text
        return calls / (time.perf_counter() - started)


async def measure(dsn: str, state: Path, calls: int, rounds: int) -> None:
    settings = load_settings(
        {
            "IDV_ENV": "development",
            "IDV_STATE_DIR": str(state),
            "IDV_MASTER_KEYS": "bench-1:" + base64.b64encode(os.urandom(32)).decode(),
            "IDV_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
            "IDV_LOG_LEVEL": "WARNING",
            "IDV_ARGON2_MEMORY_KIB": "1024",
            "IDV_ARGON2_TIME_COST": "1",
        }
    )
    async with Runtime.open(settings, dsn) as runtime:
        app = create_asgi(settings, runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://idv.test") as client:
            registered = await client.post("/v1/registrations", json=REGISTRATION)
            assert registered.status_code == 201, registered.text
            token = registered.json()["session"]["token"]
        off: list[float] = []
        on: list[float] = []
        for _ in range(rounds):
            off.append(await calls_per_second(settings, runtime, token, calls, None))
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318"
            tracing = start_tracing(exporter=Dropped())
            del os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
            assert tracing is not None
            try:
                on.append(await calls_per_second(settings, runtime, token, calls, tracing))
            finally:
                tracing.shutdown()
    print(f"whoami calls/s, traces off: {statistics.median(off):8.1f}  rounds {[round(x) for x in off]}")
    print(f"whoami calls/s, traces on:  {statistics.median(on):8.1f}  rounds {[round(x) for x in on]}")
    print(f"on / off: {statistics.median(on) / statistics.median(off):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    os.environ.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
    scratch = Path(tempfile.mkdtemp(prefix="idv-bench-tracing-"))
    scratch.chmod(0o755)
    server = EmbeddedPostgres(scratch / "pg").start()
    try:
        asyncio.run(prepare_embedded(server, "bench"))
        asyncio.run(measure(server.dsn("bench"), scratch / "state", args.calls, args.rounds))
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
