"""Registration and whoami throughput, measured against their floors on the same cores, in one run.

    .venv/bin/python bench/registration.py [--seconds 15] [--whoami-only] [--rounds 3]

Prints, all measured now on this machine:
  1. registrations/s through the HTTP API vs raw argon2id hashes/s with the same parameters
     and as many threads as the service hashes with (target ratio >= 0.85);
  2. whoami requests/s vs a bare Litestar + asyncpg primary-key read, in alternating rounds, the median
     of the rounds' ratios (target >= 1.5: whoami answers
     from the session cache, service/sessions/cache.py), and without the cache (IDV_SESSION_CACHE_TTL=0);
  3. whoami p99 latency while registrations saturate the CPU vs idle (target <= 2, issue 23).

Load comes from wrk (Debian package `wrk`; installed here when missing and run as root). The
service runs as `idv serve` with production argon2 cost on an embedded PostgreSQL. This is a
benchmark, not a test: it asserts nothing and prints what it measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from service.database.embedded import EmbeddedPostgres, free_port
from service.database.local import prepare_embedded
from service.passwords.hasher import argon2_hasher
from service.settings import Argon2Parameters

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "violet-harbour-tractor-91"

REGISTER_LUA = """
counter = 0
prefix = "x"
init = function(args)
  prefix = args[1]
end
request = function()
  counter = counter + 1
  local tag = prefix .. "x" .. counter
  local body = '{"display_name":"Bench User","username":"b' .. tag .. '","email":"b' .. tag ..
    '@example.com","password":"@PASSWORD@","birth_date":"1990-01-02",' ..
    '"accepted_terms_version":"2026-11-01","accepted_privacy_version":"2026-11-01"}'
  return wrk.format("POST", "/v1/registrations", {["Content-Type"] = "application/json"}, body)
end
""".replace("@PASSWORD@", PASSWORD)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed: apt-get install wrk")
    return found


_runs = iter(range(1, 1_000_000))


def wrk_command(url: str, seconds: int, connections: int, script: Path | None, header: str | None) -> list[str]:
    command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s"]
    if script:
        command += ["-s", str(script)]
    if header:
        command += ["-H", header]
    # The script's argument makes every run's usernames and e-mails its own.
    return [*command, url, "--", f"r{next(_runs)}p{os.getpid()}"]


def wrk(
    url: str, seconds: int, connections: int, *, script: Path | None = None, header: str | None = None
) -> dict[str, float]:
    output = subprocess.run(
        wrk_command(url, seconds, connections, script, header), capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    assert match, output
    requests = float(match.group(1))
    elapsed = float(match.group(2)) / (1000 if match.group(3) == "ms" else 1)
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = float(errors_match.group(1)) if errors_match else 0.0
    # Only successful answers count: a refused request is not a registration.
    return {"requests_per_second": (requests - errors) / elapsed, "requests": requests, "errors": errors}


def raw_argon2_rate(params: Argon2Parameters, threads: int, seconds: float) -> float:
    hasher = argon2_hasher(params)
    deadline = time.perf_counter() + seconds

    def worker() -> int:
        done = 0
        while time.perf_counter() < deadline:
            hasher.hash(PASSWORD)
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda _: worker(), range(threads)))
    return total / (time.perf_counter() - started)


class Server:
    def __init__(self, command: list[str], port: int, env: dict[str, str]) -> None:
        self.port = port
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError(
            "server did not start: " + (self.process.stderr.read().decode() if self.process.stderr else "")
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def latency_probe(url: str, token: str, seconds: float, interval: float = 0.02) -> list[float]:
    samples = []
    with httpx.Client(headers={"authorization": f"Bearer {token}"}) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            assert client.get(f"{url}/v1/sessions/whoami").status_code == 200
            samples.append(time.perf_counter() - started)
            time.sleep(interval)
    return samples


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


@dataclass(frozen=True)
class Setting:
    """A scratch directory, an embedded PostgreSQL, and the environment `idv serve` runs with."""

    scratch: Path
    dsn: str  # the owner's, for counting and the bare app
    env: dict[str, str]


@contextmanager
def embedded_setting() -> Iterator[Setting]:
    scratch = Path(tempfile.mkdtemp(prefix="idv-bench-"))
    scratch.chmod(0o755)
    database = EmbeddedPostgres(scratch / "pg").start()
    try:
        asyncio.run(prepare_embedded(database, "idv"))
        dsn = database.dsn("idv")
        env = {
            **os.environ,
            # As in production: the service's role, and the owner's for migrations.
            "DATABASE_URL": database.service_dsn("idv"),
            "IDV_MIGRATIONS_DATABASE_URL": dsn,
            "IDV_STATE_DIR": str(scratch / "state"),
            "IDV_LOG_LEVEL": "WARNING",
            "IDV_RATE_REGISTRATIONS_PER_HOUR": "0",
            "IDV_RATE_SIGN_INS_PER_MINUTE": "10000000",
            "IDV_COOKIE_SECURE": "false",
        }
        yield Setting(scratch, dsn, env)
    finally:
        database.stop()
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def serving_registrations(setting: Setting) -> Iterator[tuple[Server, Path]]:
    """`idv serve`, warmed up (pool, caches, dummy hash), and the wrk script that registers."""
    port = free_port()
    server = Server([sys.executable, "-m", "service", "serve", "--port", str(port)], port, setting.env)
    try:
        script = setting.scratch / "register.lua"
        script.write_text(REGISTER_LUA)
        wrk(server.url, 3, 4, script=script)
        yield server, script
    finally:
        server.stop()


def probe_session(url: str) -> tuple[str, str]:
    signup = httpx.post(
        f"{url}/v1/registrations",
        json={
            "display_name": "Probe",
            "username": "probe_user",
            "email": "probe@example.com",
            "password": PASSWORD,
            "birth_date": "1990-01-02",
            "accepted_terms_version": "2026-11-01",
            "accepted_privacy_version": "2026-11-01",
        },
    ).json()
    return signup["session"]["token"], signup["account_id"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--whoami-only", action="store_true", help="measure whoami and its floor only")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of whoami and its floor")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    seconds = args.seconds
    cores = os.cpu_count() or 1
    params = Argon2Parameters()
    ensure_wrk()

    with embedded_setting() as setting:
        registrations: dict[str, float] | None = None
        with serving_registrations(setting) as (server, script):
            token, account_id = probe_session(server.url)
            header = f"Authorization: Bearer {token}"
            if not args.whoami_only:
                time.sleep(3)  # let the warm-up's writes settle before measuring the quiet case
                idle = latency_probe(server.url, token, seconds)

                hash_rate = raw_argon2_rate(params, cores, seconds)
                registrations = wrk(server.url, seconds, cores * 4, script=script)

                loader = subprocess.Popen(
                    wrk_command(server.url, seconds + 4, cores * 4, script, None), stdout=subprocess.DEVNULL
                )
                time.sleep(2)
                loaded = latency_probe(server.url, token, seconds)
                loader.wait()

            # whoami from the cache, whoami resolved in the database, and the bare read: all three
            # servers up at once and measured in alternating rounds, so that the machine's drift
            # (a shared host's neighbours) falls on all three alike; each ratio is the median of
            # its rounds' ratios.
            with contextlib.ExitStack() as servers:
                uncached_port = free_port()
                uncached_server = Server(
                    [sys.executable, "-m", "service", "serve", "--port", str(uncached_port)],
                    uncached_port,
                    {**setting.env, "IDV_SESSION_CACHE_TTL": "0"},
                )
                servers.callback(uncached_server.stop)
                bare_port = free_port()
                bare = Server(
                    [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(bare_port)],
                    bare_port,
                    {**setting.env, "BENCH_DSN": setting.dsn},
                )
                servers.callback(bare.stop)
                read_url = f"{bare.url}/accounts/{account_id}"
                wrk(read_url, 2, 16)
                wrk(f"{uncached_server.url}/v1/sessions/whoami", 2, 16, header=header)
                wrk(f"{server.url}/v1/sessions/whoami", 2, 16, header=header)
                rounds: list[tuple[dict[str, float], dict[str, float], dict[str, float]]] = []
                for _ in range(args.rounds):
                    rounds.append(
                        (
                            wrk(f"{server.url}/v1/sessions/whoami", seconds, 16, header=header),
                            wrk(f"{uncached_server.url}/v1/sessions/whoami", seconds, 16, header=header),
                            wrk(read_url, seconds, 16),
                        )
                    )
        count = asyncio.run(_count_accounts(setting.dsn))

    print(f"machine: {cores} cores; argon2id m={params.memory_kib} KiB t={params.time_cost} p={params.parallelism}")
    if registrations is not None:
        registration_ratio = registrations["requests_per_second"] / hash_rate
        print(f"raw argon2id hashes/s ({cores} threads):        {hash_rate:8.1f}")
        print(
            f"registrations/s through HTTP (c={cores * 4}):          {registrations['requests_per_second']:8.1f}"
            f"   (non-2xx: {registrations['errors']:.0f}, accounts created in all: {count})"
        )
        print(f"  ratio registrations / hashes:               {registration_ratio:8.2f}   (target >= 0.85)")
    for number, (whoami, uncached, baseline) in enumerate(rounds, start=1):
        print(
            f"round {number}: whoami req/s cache / no cache / bare read:"
            f" {whoami['requests_per_second']:.0f} / {uncached['requests_per_second']:.0f}"
            f" / {baseline['requests_per_second']:.0f}"
            f"   (non-2xx: {whoami['errors'] + uncached['errors']:.0f})"
        )
    whoami_ratio = statistics.median(w["requests_per_second"] / b["requests_per_second"] for w, _, b in rounds)
    uncached_ratio = statistics.median(u["requests_per_second"] / b["requests_per_second"] for _, u, b in rounds)
    print(f"  ratio whoami (cache) / bare read, median:   {whoami_ratio:8.2f}   (target >= 1.5)")
    print(f"  ratio whoami (no cache) / bare read, median:{uncached_ratio:8.2f}")
    if registrations is not None:
        latency_ratio = p99(loaded) / p99(idle)
        print(f"whoami p99 idle:                              {p99(idle) * 1000:8.2f} ms  ({len(idle)} samples)")
        print(f"whoami p99 while registrations saturate CPU:  {p99(loaded) * 1000:8.2f} ms  ({len(loaded)} samples)")
        print(f"  ratio loaded / idle:                        {latency_ratio:8.2f}   (target <= 2)")


async def _count_accounts(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        value: int = await conn.fetchval("SELECT count(*) FROM accounts")
        return value
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
